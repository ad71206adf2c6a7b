"""The Prometheus text exposition of one Report (``--format prometheus``).

For the node_exporter textfile collector or a Pushgateway: the metric families of
``patchlevel.metrics``, written by the official client library in the Prometheus text format
0.0.4 (what the textfile collector reads), without timestamps (which it refuses).  ``serve``
serves the same families through the same conversion.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from prometheus_client.exposition import generate_latest
from prometheus_client.metrics_core import CounterMetricFamily, GaugeMetricFamily, Metric

from patchlevel.metrics import MetricFamily, MetricType, report_metrics
from patchlevel.model import Report


def client_families(families: Iterable[MetricFamily]) -> Iterator[Metric]:
    """The client library's metric families for ours (what a custom Collector yields)."""
    for family in families:
        spec = family.spec
        metric: GaugeMetricFamily | CounterMetricFamily
        if spec.type is MetricType.COUNTER:
            metric = CounterMetricFamily(spec.name, spec.help, labels=spec.labels)
        else:
            metric = GaugeMetricFamily(spec.name, spec.help, labels=spec.labels)
        for sample in family.samples:
            metric.add_metric(list(sample.labels), sample.value)
        yield metric


class _Families:
    """A Collector (the client library's protocol) over fixed families."""

    def __init__(self, families: Iterable[MetricFamily]) -> None:
        self._families = tuple(families)

    def collect(self) -> Iterator[Metric]:
        return client_families(self._families)


def render_prometheus(report: Report) -> bytes:
    return generate_latest(_Families(report_metrics(report)))
