"""Read the CloudFormation template and evaluate its AWS IoT policy, for tests.

The loader keeps short-form intrinsic functions (!Sub, !Ref, !GetAtt, ...) as
`Intrinsic` values; `render` resolves !Sub/!Ref with sample parameters. `IotPolicy`
evaluates a rendered policy as AWS IoT Core does for the parts we use: explicit Deny
wins, then any Allow; `*` and `?` in a resource are wildcards (so `*` also matches the
MQTT wildcards `#` and `+`); policy variables are replaced from the connection.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
import re
from typing import Any

import yaml

TEMPLATE = Path(__file__).resolve().parents[2] / "deploy" / "aws" / "template.yaml"
PSEUDO = {"AWS::Partition": "aws", "AWS::Region": "eu-west-1", "AWS::AccountId": "123456789012"}
ARN = "arn:aws:iot:eu-west-1:123456789012"


@dataclass(frozen=True, slots=True)
class Intrinsic:
    """A short-form intrinsic function, e.g. !Sub "..." -> Intrinsic("Sub", "...")."""

    name: str
    value: Any


class _Loader(yaml.SafeLoader):
    pass


def _construct(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Intrinsic:
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        assert isinstance(node, yaml.MappingNode)
        value = loader.construct_mapping(node, deep=True)
    return Intrinsic(suffix, value)


_Loader.add_multi_constructor("!", _construct)


def load_template(path: Path = TEMPLATE) -> dict[str, Any]:
    """The template as plain data with Intrinsic values."""
    data = yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader)
    assert isinstance(data, dict)
    return data


def _sub(template: str, names: dict[str, str]) -> str:
    def replace(match: re.Match[str]) -> str:
        inner = match.group(1)
        if inner.startswith("!"):
            return "${" + inner[1:] + "}"
        return names[inner]

    return re.sub(r"\$\{([^}]+)\}", replace, template)


def render(value: Any, params: dict[str, str]) -> Any:
    """Resolve !Sub and !Ref (parameters and pseudo parameters) everywhere in value."""
    names = PSEUDO | params
    if isinstance(value, Intrinsic):
        if value.name == "Sub" and isinstance(value.value, str):
            return _sub(value.value, names)
        if value.name == "Sub":
            template, extra = value.value
            return _sub(template, names | {k: render(v, params) for k, v in extra.items()})
        if value.name == "Ref":
            return names.get(value.value, f"<ref {value.value}>")
        return value
    if isinstance(value, dict):
        return {k: render(v, params) for k, v in value.items()}
    if isinstance(value, list):
        return [render(v, params) for v in value]
    return value


def _matches(pattern: str, resource: str) -> bool:
    regex = "".join(".*" if ch == "*" else "." if ch == "?" else re.escape(ch) for ch in pattern)
    return re.fullmatch(regex, resource, re.DOTALL) is not None


@dataclass(slots=True)
class IotPolicy:
    """A rendered AWS IoT policy document, evaluated for one connection."""

    statements: list[dict[str, Any]]
    thing_name: str = ""
    thing_attached: bool = True
    extra: list[dict[str, Any]] = field(default_factory=list)
    attributes: dict[str, str] = field(default_factory=dict)

    def _applies(self, statement: dict[str, Any], action: str, resource: str) -> bool:
        actions = statement["Action"]
        actions = [actions] if isinstance(actions, str) else actions
        if action not in actions and "iot:*" not in actions:
            return False
        resources = statement["Resource"]
        resources = [resources] if isinstance(resources, str) else resources
        variables = {"iot:Connection.Thing.ThingName": self.thing_name} | {
            f"iot:Connection.Thing.Attributes[{k}]": v for k, v in self.attributes.items()
        }
        for pattern in resources:
            concrete = re.sub(r"\$\{([^}]+)\}", lambda m: variables.get(m.group(1), "\0"), pattern)
            if "\0" not in concrete and _matches(concrete, resource):
                return self._condition_holds(statement.get("Condition", {}))
        return False

    def _condition_holds(self, condition: dict[str, Any]) -> bool:
        for operator, tests in condition.items():
            for key, expected in tests.items():
                if operator == "Bool" and key == "iot:Connection.Thing.IsAttached":
                    if str(self.thing_attached).lower() != str(expected).lower():
                        return False
                else:
                    raise AssertionError(f"condition {operator} {key} not modelled")
        return True

    def allows(self, action: str, resource: str) -> bool:
        """True when the policy allows action on resource (explicit Deny wins)."""
        statements = [*self.statements, *self.extra]
        denied = any(
            s["Effect"] == "Deny" and self._applies(s, action, resource) for s in statements
        )
        allowed = any(
            s["Effect"] == "Allow" and self._applies(s, action, resource) for s in statements
        )
        return allowed and not denied

    def can_connect(self, client_id: str) -> bool:
        return self.allows("iot:Connect", f"{ARN}:client/{client_id}")

    def can_publish(self, topic: str) -> bool:
        return self.allows("iot:Publish", f"{ARN}:topic/{topic}")

    def can_subscribe(self, topic_filter: str) -> bool:
        return self.allows("iot:Subscribe", f"{ARN}:topicfilter/{topic_filter}")

    def can_receive(self, topic: str) -> bool:
        return self.allows("iot:Receive", f"{ARN}:topic/{topic}")
