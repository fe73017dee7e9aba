"""The delivery counts of the MQTT bridge and the notify service, as the web's /metrics shows them."""

from __future__ import annotations

from prometheus_client import generate_latest

from services.web.metrics import WebMetrics
from services.web.state import MAX_DELIVERY_SERVICES, Hub
from shared.bus import schema


def test_each_services_latest_counts_are_on_metrics_and_forged_services_are_bounded() -> None:
    hub = Hub({})
    metrics = WebMetrics(hub)
    counts = schema.DeliveryCounts(sent=5, failed=1, dropped=2, retries=3)
    hub.delivery_seen(schema.DeliveryStats(service="notify", targets={"webhook-1": counts}))
    hub.delivery_seen(schema.DeliveryStats(service="mqtt", targets={"broker": schema.DeliveryCounts(sent=1)}))
    hub.delivery_seen(schema.DeliveryStats(service="mqtt", targets={"broker": schema.DeliveryCounts(sent=9)}))
    text = generate_latest(metrics.registry).decode()
    assert 'facestream_delivered_total{service="notify",target="webhook-1"} 5.0' in text
    assert 'facestream_delivery_failed_total{service="notify",target="webhook-1"} 1.0' in text
    assert 'facestream_delivery_dropped_total{service="notify",target="webhook-1"} 2.0' in text
    assert 'facestream_delivery_retries_total{service="notify",target="webhook-1"} 3.0' in text
    assert 'facestream_delivered_total{service="mqtt",target="broker"} 9.0' in text  # the latest, not a sum
    for number in range(50):
        hub.delivery_seen(schema.DeliveryStats(service=f"forged{number}", targets={}))
    assert len(hub.delivery_stats()) == MAX_DELIVERY_SERVICES
