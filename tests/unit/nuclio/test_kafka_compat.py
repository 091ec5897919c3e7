"""Warnings for a kafka trigger on a Nuclio/Kafka pair that never commits offsets."""

from __future__ import annotations

import logging

import pytest
import yaml

import nuserve
from nuserve.nuclio.deploy import deploy_file, deploy_function
from nuserve.nuclio.kafka_compat import replay_warnings, replays


def kafka_function(kafka_version: str | None = None):
    fn = nuserve.new_function("kc")
    fn.add_model("e", class_name="tests.models.Echo")
    fn.add_kafka_trigger("k", brokers=["b:9092"], topics=["t"], kafka_version=kafka_version)
    return fn


@pytest.mark.parametrize(
    ("nuclio", "kafka", "verdict"),
    [
        ("1.14.1", "4.1.1", True), ("1.14.1", "4.0", True), ("1.13.16", "4.0.0", True),
        (None, "4.1.0", True), ("1.14.1", "3.9.1", False), ("1.14.1", "2.8.0", False),
        ("1.14.1", None, None), ("1.15.0", "4.1.1", None),
    ],
)  # fmt: skip
def test_which_pairs_replay(nuclio, kafka, verdict):
    assert replays(nuclio, kafka) is verdict


def test_a_kafka_4_trigger_warns_on_to_yaml_and_is_written_as_nuclio_reads_it(caplog):
    fn = kafka_function("4.1.1")
    with caplog.at_level(logging.WARNING, logger="nuserve.nuclio"):
        text = fn.to_yaml()
    assert yaml.safe_load(text)["spec"]["triggers"]["k"]["attributes"]["version"] == "4.1.1"
    assert any("never commits offsets on Kafka 4.1.1" in r.getMessage() for r in caplog.records)


def test_kafka_3_9_is_quiet_and_an_unnamed_version_asks_for_one():
    assert replay_warnings(yaml.safe_load(kafka_function("3.9.0").to_yaml())) == []
    (line,) = replay_warnings(yaml.safe_load(kafka_function().to_yaml()))
    assert "commits offsets only on Kafka below 4.0" in line and "kafka_version" in line
    assert replay_warnings(yaml.safe_load(kafka_function().to_yaml()), "1.15.2") == []


def test_deploy_reports_the_warning_in_its_result(tmp_path):
    (tmp_path / "handler.py").write_text("from nuserve.nuclio import handler, init_context\n")
    result = deploy_function(kafka_function("4.0.0"), dry_run=True, project_dir=tmp_path, nuclio_version="1.14.1")
    assert len(result.warnings) == 1 and "Nuclio 1.14.1" in result.warnings[0]
    path = tmp_path / "function.yaml"
    kafka_function("4.0.0").to_yaml(path)
    assert deploy_file(path, dry_run=True, project_dir=tmp_path).warnings == result.warnings
    quiet = deploy_function(kafka_function("3.9.1"), dry_run=True, project_dir=tmp_path)
    assert quiet.warnings == []


def test_a_kafka_version_that_is_not_one_is_refused():
    with pytest.raises(nuserve.ConfigError, match="kafka_version must be like"):
        kafka_function("latest")
