"""Prometheus metrics of the web service, in a registry of its own."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from services.web.state import Hub


class DispatcherCollector(Collector):
    """Exposes the dispatcher's counts, as last published on the bus."""

    def __init__(self, hub: Hub) -> None:
        self._hub = hub

    def collect(self) -> Iterator:
        stats = self._hub.dispatch_stats()
        dropped = CounterMetricFamily(
            "facestream_frames_dropped",
            "Due frames no worker was free for (newer ones replaced them).",
            labels=["camera"],
        )
        dispatched = CounterMetricFamily(
            "facestream_frames_dispatched", "Frames handed to inference workers.", labels=["camera"]
        )
        workers = GaugeMetricFamily("facestream_workers", "Inference workers the dispatcher hears from.")
        unsent = CounterMetricFamily(
            "facestream_work_unsent", "Work the dispatcher could not hand to a peer whose pipe was full."
        )
        refused = CounterMetricFamily(
            "facestream_done_refused", "Answers the dispatcher refused: not for work it handed to that worker."
        )
        if stats is not None:
            unsent.add_metric([], stats.unsent)
            refused.add_metric([], stats.refused_done)
            for camera, count in stats.dropped.items():
                dropped.add_metric([camera], count)
            for camera, count in stats.dispatched.items():
                dispatched.add_metric([camera], count)
            workers.add_metric([], stats.workers_known)
        yield from (dropped, dispatched, workers, unsent, refused)


class DeliveryCollector(Collector):
    """Exposes what the MQTT bridge and the notify service did with what they had to tell, as last published."""

    def __init__(self, hub: Hub) -> None:
        self._hub = hub

    def collect(self) -> Iterator:
        labels = ["service", "target"]
        families = {
            "sent": CounterMetricFamily(
                "facestream_delivered", "Messages delivered (to the MQTT broker, or answered 2xx).", labels=labels
            ),
            "failed": CounterMetricFamily(
                "facestream_delivery_failed", "Webhooks and notifications given up after every retry.", labels=labels
            ),
            "dropped": CounterMetricFamily(
                "facestream_delivery_dropped",
                "Messages never tried: the MQTT broker was away, or a receiver's queue was full.",
                labels=labels,
            ),
            "retries": CounterMetricFamily(
                "facestream_delivery_retries", "Webhook and notification attempts after a failed one.", labels=labels
            ),
        }
        for stats in self._hub.delivery_stats():
            for target, counts in stats.targets.items():
                for field, family in families.items():
                    family.add_metric([stats.service, target], getattr(counts, field))
        yield from families.values()


class WebMetrics:
    """The counters the web service keeps as messages arrive and viewers come and go."""

    def __init__(self, hub: Hub) -> None:
        self.registry = CollectorRegistry()
        self.frames_captured = Counter(
            "facestream_frames_captured", "Frames received from capture.", ["camera"], registry=self.registry
        )
        self.frames_analysed = Counter(
            "facestream_frames_analysed", "Results received from inference workers.", ["camera"], registry=self.registry
        )
        self.inference_ms = Histogram(
            "facestream_inference_ms",
            "Worker time per analysed frame (ms).",
            ["camera"],
            buckets=(5, 10, 20, 40, 80, 160, 320, 640, 1280),
            registry=self.registry,
        )
        self.viewers = Gauge("facestream_viewers", "Open MJPEG streams.", ["camera"], registry=self.registry)
        self.frames_streamed = Counter(
            "facestream_frames_streamed", "MJPEG parts sent to viewers.", ["camera"], registry=self.registry
        )
        self.bad_messages = Counter(
            "facestream_bad_messages", "Malformed bus messages dropped.", registry=self.registry
        )
        self.registry.register(DispatcherCollector(hub))
        self.registry.register(DeliveryCollector(hub))
        self._per_camera = (
            self.frames_captured,
            self.frames_analysed,
            self.inference_ms,
            self.viewers,
            self.frames_streamed,
        )

    def forget_cameras(self, kept: set[str]) -> None:
        """Drop the series of cameras not in ``kept`` (learnt ones the hub forgot): forged names on the bus must
        not grow /metrics for good. A camera still being watched keeps its viewer count."""
        for metric in self._per_camera:
            gone = {
                sample.labels["camera"]
                for family in metric.collect()
                for sample in family.samples
                if sample.labels.get("camera", "") not in kept and not (metric is self.viewers and sample.value)
            }
            for camera in gone - {""}:
                with contextlib.suppress(KeyError):  # gone meanwhile
                    metric.remove(camera)
