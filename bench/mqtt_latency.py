"""How soon a face in a frame reaches an MQTT subscriber: capture time to message arrival, p50/p95.

Why it exists: facestream's box age is well under 100 ms, and users of other
home-automation face recognisers complain of seconds between a face at the
door and the message (issue 14). This measures what facestream's MQTT side
adds on the way, and where.

It starts a real mosquitto on a free loopback port (tests/mosquitto.py) and
the real pipeline (``python -m services.launch`` through tests.harness: the
hamilton clip, 640x360 at 29.97 fps, Lin-Manuel Miranda known, one worker,
``MQTT_URL`` set), a paho subscriber to ``#`` that timestamps every message
as it arrives, and a plain bus subscriber (results and sightings). Then, for
``--cycles`` rounds, it starts the camera, lets the clip play (it loops, and
its cuts make new sightings), stops the camera and waits until MQTT says
he has left, so every round has a fresh arrival. Figures, each p50/p95/max
over every sample of the run:

- **appear of a known person** on ``<prefix>/events``: from the capture time
  of the frame whose result made the event (the event's ``end``) to arrival.
  This is the time facestream itself adds: the worker, the tracker, the
  sightings service, the bridge and the broker;
- the same from the sighting's **first frame** (its ``start``): it adds the
  time naming takes (the tracker names a face after two agreeing
  encodings, and the sightings service follows the name with most confidence);
- **stranger appear**: an Unknown sighting is told only after its settle time
  (``UNKNOWN_SETTLE_S``, 3 s, shared/sightings/events.py), on purpose;
- **presence ON** (``<prefix>/<camera>/<person>``, from the results): from the
  capture of the first frame naming him in a round to arrival;
- the split of the known appear: capture to the frame's result at a bus
  subscriber (dispatch, the worker, the tracker), capture to the
  ``sightings.`` message (the sightings service adds its share), and from
  there to the MQTT subscriber (the bridge and mosquitto).

    .venv/bin/python bench/mqtt_latency.py            # 6 rounds of 25 s (~4 min)
    .venv/bin/python bench/mqtt_latency.py --quick    # 2 rounds of 15 s (~1.5 min)

Needs mosquitto (scripts/install-mosquitto.sh). Writes bench/results/mqtt_latency.json.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench import common  # noqa: E402

CAMERA = "hamilton"
RESULTS = common.RESULTS_DIR / "mqtt_latency.json"
START_TIMEOUT_S = 300.0
"""From the launch to his first presence: the worker loads its models on a loaded machine."""


def say(*args: object) -> None:
    print(*args, file=sys.stderr, flush=True)


def spread(values: list[float]) -> dict:
    """Milliseconds: how many, p50, p95, max."""
    ms = [value * 1000.0 for value in values]
    return {
        "n": len(ms),
        "p50": common.percentile(ms, 50),
        "p95": common.percentile(ms, 95),
        "max": max(ms, default=None),
    }


def measure(cycles: int, seconds: float) -> dict:
    from services.mqtt import topics as t
    from tests.harness import running_pipeline, wait_for
    from tests.mosquitto import Mosquitto, Recorder

    topics = t.Topics("facestream")
    person_on = topics.presence(CAMERA, common.KNOWN)
    with tempfile.TemporaryDirectory(prefix="mqtt-latency-") as folder:
        work = Path(folder)
        (work / "mosquitto").mkdir()
        (work / "pipeline").mkdir()
        broker = Mosquitto(work / "mosquitto")
        broker.start()
        heard = Recorder(broker.port)
        try:
            with running_pipeline(
                work / "pipeline",
                source=f"{CAMERA}={common.CLIP}",
                faces_dir=str(common.REFERENCE),
                workers="1",
                mqtt_url=broker.url,
                api_token=common.BENCH_TOKEN,
            ) as pipeline:
                bus = common.BusRecorder(pipeline.bus_port, prefixes=(b"faces.", b"sightings."))
                bus.start()
                rounds = []
                try:
                    for number in range(cycles):
                        started, mark = time.time(), len(heard.messages) if number else 0
                        if number:
                            pipeline.supervisorctl("start", f"capture-{CAMERA}")
                        timeout_s = 60.0 if number else START_TIMEOUT_S
                        heard.wait(lambda m: m.topic == person_on and m.text == "ON", timeout_s, "his ON", mark)
                        time.sleep(seconds)  # the clip plays for a fixed window: this is the measurement, not a wait
                        mark = len(heard.messages)
                        pipeline.supervisorctl("stop", f"capture-{CAMERA}")
                        heard.wait(lambda m: m.topic == person_on and m.text == "OFF", 60, "his OFF", mark)
                        wait_for(lambda: not bus_open(bus), 30, "every sighting to close")
                        rounds.append(started)
                        say(f"round {number + 1}/{cycles} done")
                finally:
                    bus.stop()
                messages = list(heard.messages)
                bus_messages = list(bus.messages)
        finally:
            heard.close()
            broker.stop()
    return figures(messages, bus_messages, rounds, topics, person_on)


def bus_open(bus: common.BusRecorder) -> bool:
    """Whether a sighting is still open on the bus (an appear without its leave)."""
    opened, closed = set(), set()
    for _, kind, body in list(bus.messages):
        if kind.startswith("sightings."):
            (closed if body["event"] == "leave" else opened).add(body["id"])
    return bool(opened - closed)


def figures(messages: list, bus_messages: list, rounds: list[float], topics, person_on: str) -> dict:
    events = [(m.at, m.json()) for m in messages if m.topic == topics.events]
    known = [(at, e) for at, e in events if e["type"] in ("appear", "named") and e["name"] == common.KNOWN]
    known_appear = [(at, e) for at, e in known if e["type"] == "appear"]
    strangers = [(at, e) for at, e in events if e["type"] == "appear" and e["name"] == "Unknown"]
    said = {  # (sighting id, name) -> arrival of the sightings. message that first gave that name
        (body["id"], body["name"]): at
        for at, kind, body in reversed(bus_messages)
        if kind.startswith("sightings.") and body["event"] in ("appear", "named")
    }
    on_latency = []
    results = [(at, body) for at, kind, body in bus_messages if kind.startswith("faces.")]
    result_at = {body["capture_ts"]: at for at, body in results}  # when each frame's result reached the bus
    for index, started in enumerate(rounds):
        ended = rounds[index + 1] if index + 1 < len(rounds) else float("inf")
        first = next(
            (
                body["capture_ts"]
                for _, body in results
                if started <= body["capture_ts"] < ended and any(f["name"] == common.KNOWN for f in body["faces"])
            ),
            None,
        )
        on = next((m.at for m in messages if m.topic == person_on and m.text == "ON" and m.at >= started), None)
        if first is not None and on is not None and on < ended:
            on_latency.append(on - first)
    return {
        "known_appear_from_naming_frame_ms": spread([at - e["end"] for at, e in known_appear]),
        "known_appear_from_first_frame_ms": spread([at - e["start"] for at, e in known_appear]),
        "stranger_appear_from_first_frame_ms": spread([at - e["start"] for at, e in strangers]),
        "presence_on_from_first_naming_frame_ms": spread(on_latency),
        "split_capture_to_result_on_bus_ms": spread(
            [result_at[e["end"]] - e["end"] for _, e in known_appear if e["end"] in result_at]
        ),
        "split_capture_to_sightings_on_bus_ms": spread(
            [
                said[(e["sighting_id"], e["name"])] - e["end"]
                for _, e in known_appear
                if (e["sighting_id"], e["name"]) in said
            ]
        ),
        "split_sightings_on_bus_to_mqtt_subscriber_ms": spread(
            [
                at - said[(e["sighting_id"], e["name"])]
                for at, e in known_appear
                if (e["sighting_id"], e["name"]) in said
            ]
        ),
        "events": len(events),
        "rounds": len(rounds),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="2 rounds of 15 s")
    parser.add_argument("--cycles", type=int, help="rounds of camera on, off (default 6; quick 2)")
    parser.add_argument("--seconds", type=float, help="seconds the camera plays per round (default 25; quick 15)")
    args = parser.parse_args(argv)
    if common.missing_data("mqtt_latency.py", common.CLIP, common.REFERENCE):
        return 0
    cycles = args.cycles or (2 if args.quick else 6)
    seconds = args.seconds or (15.0 if args.quick else 25.0)
    load_before = common.load_average()
    result = measure(cycles, seconds)
    result.update(load_average_before=load_before, load_average_after=common.load_average(), seconds_per_round=seconds)
    rows = [
        (
            what,
            figures["n"],
            common.fmt(figures["p50"], 0),
            common.fmt(figures["p95"], 0),
            common.fmt(figures["max"], 0),
        )
        for what, figures in result.items()
        if isinstance(figures, dict)
    ]
    print(common.table(("capture -> MQTT subscriber (ms)", "n", "p50", "p95", "max"), rows))
    print(f"load average before {load_before}, after {result['load_average_after']}")
    common.save_and_emit(RESULTS, result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
