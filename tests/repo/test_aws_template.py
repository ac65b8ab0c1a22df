"""deploy/aws/template.yaml: the bridge's IoT policy and the republish rules of contract 1."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.repo.cfn import Intrinsic, IotPolicy, load_template, render

PARAMS = {"ContractId": "C1001", "ThingName": "home-0042", "TopicPrefix": "inx"}
OWN_DOWNSTREAM = ["inx/C1001/activate", "inx/C1001/ping", "inx/C1001/action"]
UPSTREAM = [
    "inx/activate",
    "inx/ping",
    "inx/instance/return",
    "inx/C1001/send_sync_query_high",
    "inx/C1001/send_sync_query_low",
]


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return load_template()


def _policy(template: dict[str, Any], **kwargs: Any) -> IotPolicy:
    document = render(template["Resources"]["BridgePolicy"]["Properties"], PARAMS)
    return IotPolicy(document["PolicyDocument"]["Statement"], **kwargs)


def test_connect_only_as_the_attached_thing(template: dict[str, Any]) -> None:
    policy = _policy(template, thing_name="home-0042")
    assert policy.can_connect("home-0042")
    assert not policy.can_connect("home-0043")
    assert not policy.can_connect("*")
    assert not _policy(template, thing_name="home-0042", thing_attached=False).can_connect(
        "home-0042"
    )


def test_publish_only_the_upstream_packets(template: dict[str, Any]) -> None:
    policy = _policy(template, thing_name="home-0042")
    assert all(policy.can_publish(topic) for topic in UPSTREAM)
    for topic in [
        "inx/C1001/action",  # forging commands to itself
        "inx/C2002/send_sync_query_high",  # writing into another home
        "inx/activate/cloud",  # bypassing the rules
        "inx/ping/cloud",
        "inx/C1001/activate",
        "other/activate",
    ]:
        assert not policy.can_publish(topic), topic


def test_subscribe_only_own_topics_never_a_wildcard(template: dict[str, Any]) -> None:
    policy = _policy(template, thing_name="home-0042")
    assert all(policy.can_subscribe(topic) for topic in OWN_DOWNSTREAM)
    for topic_filter in [
        "inx/C1001/#",
        "inx/C1001/+",
        "inx/#",
        "#",
        "+/C1001/action",
        "inx/+/action",
        "inx/C2002/action",
        "inx/C1001/send_sync_query_high",  # its own sync packets back
    ]:
        assert not policy.can_subscribe(topic_filter), topic_filter


def test_receive_only_own_topics(template: dict[str, Any]) -> None:
    policy = _policy(template, thing_name="home-0042")
    assert all(policy.can_receive(topic) for topic in OWN_DOWNSTREAM)
    assert not policy.can_receive("inx/C2002/action")
    assert not policy.can_receive("inx/C1001/send_sync_query_low")


def test_wildcard_deny_survives_a_broader_allow(template: dict[str, Any]) -> None:
    broad = {"Effect": "Allow", "Action": "iot:Subscribe", "Resource": "*"}
    policy = _policy(template, thing_name="home-0042", extra=[broad])
    assert policy.can_subscribe("inx/C2002/action")
    assert not policy.can_subscribe("inx/C1001/#")
    assert not policy.can_subscribe("inx/+/action")


def test_evaluator_sees_that_a_star_resource_admits_mqtt_wildcards() -> None:
    naive = {
        "Effect": "Allow",
        "Action": "iot:Subscribe",
        "Resource": "arn:aws:iot:eu-west-1:123456789012:topicfilter/inx/C1001/*",
    }
    assert IotPolicy([naive]).can_subscribe("inx/C1001/#")


def test_policy_variable_survives_sub(template: dict[str, Any]) -> None:
    statement = template["Resources"]["BridgePolicy"]["Properties"]["PolicyDocument"]["Statement"][
        0
    ]
    assert isinstance(statement["Resource"], Intrinsic)
    assert "${!iot:Connection.Thing.ThingName}" in statement["Resource"].value
    assert render(statement["Resource"], PARAMS).endswith(
        ":client/${iot:Connection.Thing.ThingName}"
    )


def _rules(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        name: resource
        for name, resource in template["Resources"].items()
        if resource["Type"] == "AWS::IoT::TopicRule"
        and any("Republish" in a for a in resource["Properties"]["TopicRulePayload"]["Actions"])
    }


def test_republish_rules_of_contract_one(template: dict[str, Any]) -> None:
    pairs = set()
    for resource in _rules(template).values():
        assert resource["Condition"] == "CreateSharedRules"
        payload = render(resource["Properties"]["TopicRulePayload"], PARAMS)
        source = re.fullmatch(r"SELECT \* FROM '([^']+)'", payload["Sql"])
        assert source is not None, payload["Sql"]
        (action,) = payload["Actions"]
        target = action["Republish"]["Topic"]
        assert target != source.group(1), "a rule republishing to its own topic loops"
        assert action["Republish"]["Qos"] == 1
        pairs.add((source.group(1), target))
        name = render(resource["Properties"]["RuleName"], PARAMS)
        assert re.fullmatch(r"[a-zA-Z0-9_]+", name), name
    assert pairs == {("inx/activate", "inx/activate/cloud"), ("inx/ping", "inx/ping/cloud")}


def test_republish_role_publishes_only_to_the_cloud_topics(template: dict[str, Any]) -> None:
    role = render(template["Resources"]["RepublishRole"], PARAMS)
    assert role["Condition"] == "CreateSharedRules"
    trust = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    assert [s["Principal"] for s in trust] == [{"Service": "iot.amazonaws.com"}]
    (inline,) = role["Properties"]["Policies"]
    policy = IotPolicy(inline["PolicyDocument"]["Statement"])
    assert policy.can_publish("inx/activate/cloud")
    assert policy.can_publish("inx/ping/cloud")
    assert not policy.can_publish("inx/C1001/action")
    assert not policy.can_publish("inx/activate")


@pytest.mark.parametrize(
    ("parameter", "good", "bad"),
    [
        ("ContractId", ["C1001", "acme_42-b"], ["C*", "C?", "a/b", "#", "+", "", "x" * 65]),
        ("TopicPrefix", ["inx", "inx_test"], ["inx/a", "*", "in-x", ""]),
        ("ThingName", ["home-0042", "a:b_c"], ["home/1", "*", ""]),
    ],
)
def test_parameters_refuse_topic_and_policy_wildcards(
    template: dict[str, Any], parameter: str, good: list[str], bad: list[str]
) -> None:
    pattern = template["Parameters"][parameter]["AllowedPattern"]
    assert all(re.fullmatch(pattern, value) for value in good)
    assert not any(re.fullmatch(pattern, value) for value in bad)
