"""Read template.yaml as data, and transform it with the SAM translator offline.

``load_template`` returns the raw template with the short-form intrinsics turned
into their JSON spelling (``!Ref X`` -> ``{"Ref": "X"}``, ``!GetAtt A.B`` ->
``{"Fn::GetAtt": ["A", "B"]}``, ...), which is what the local stack and the
template tests read. ``translate_template`` runs aws-sam-translator without AWS
credentials or network (the template uses explicit IAM roles, so no managed-policy
lookup is needed), as cfn-lint used to do for its own checks.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

REPO_ROOT = Path(__file__).resolve().parents[1]
TEMPLATE_PATH = REPO_ROOT / "template.yaml"

# Short-form tag -> long-form key. !GetAtt and !Ref are handled on their own.
_FUNCTIONS = {
    "Base64": "Fn::Base64",
    "Cidr": "Fn::Cidr",
    "And": "Fn::And",
    "Equals": "Fn::Equals",
    "If": "Fn::If",
    "Not": "Fn::Not",
    "Or": "Fn::Or",
    "FindInMap": "Fn::FindInMap",
    "GetAZs": "Fn::GetAZs",
    "ImportValue": "Fn::ImportValue",
    "Join": "Fn::Join",
    "Select": "Fn::Select",
    "Split": "Fn::Split",
    "Sub": "Fn::Sub",
    "Transform": "Fn::Transform",
    "Length": "Fn::Length",
    "ToJsonString": "Fn::ToJsonString",
    "Condition": "Condition",
}


class _CfnLoader(yaml.SafeLoader):
    """SafeLoader that understands CloudFormation's short-form tags."""


def _node_value(loader: yaml.SafeLoader, node: yaml.Node) -> Any:
    if isinstance(node, yaml.ScalarNode):
        return loader.construct_scalar(node)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node, deep=True)
    return loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]


def _construct_tag(loader: yaml.SafeLoader, tag_suffix: str, node: yaml.Node) -> Any:
    value = _node_value(loader, node)
    if tag_suffix == "Ref":
        return {"Ref": value}
    if tag_suffix == "GetAtt":
        if isinstance(value, str):
            resource, _, attribute = value.partition(".")
            return {"Fn::GetAtt": [resource, attribute]}
        return {"Fn::GetAtt": value}
    if tag_suffix in _FUNCTIONS:
        return {_FUNCTIONS[tag_suffix]: value}
    raise yaml.constructor.ConstructorError(None, None, f"unknown tag !{tag_suffix}", node.start_mark)


_CfnLoader.add_multi_constructor("!", _construct_tag)


def load_template_text(text: str) -> dict[str, Any]:
    data = yaml.load(text, Loader=_CfnLoader)  # noqa: S506 - a SafeLoader subclass
    if not isinstance(data, dict):
        raise ValueError("a CloudFormation template must be a mapping")
    return data


def load_template(path: Path | str = TEMPLATE_PATH) -> dict[str, Any]:
    """The template as a dict, intrinsics in their JSON (long) form."""
    return load_template_text(Path(path).read_text(encoding="utf-8"))


class _NoManagedPolicies:
    """Stands in for samtranslator's ManagedPolicyLoader (which calls IAM)."""

    def load(self) -> dict[str, str]:
        return {}


_S3_PLACEHOLDER = "s3://signpost-offline-transform/placeholder.zip"


def _local_paths_to_s3(template: dict[str, Any]) -> None:
    """The translator wants S3 URIs where `sam build/package` would put them."""
    for resource in template.get("Resources", {}).values():
        properties = resource.get("Properties")
        if not isinstance(properties, dict):
            continue
        kind = resource.get("Type")
        if kind == "AWS::Serverless::Function" and isinstance(properties.get("CodeUri", "."), str):
            properties["CodeUri"] = _S3_PLACEHOLDER
        elif kind == "AWS::Serverless::LayerVersion" and isinstance(properties.get("ContentUri"), str):
            properties["ContentUri"] = _S3_PLACEHOLDER


def translate_template(
    template: Mapping[str, Any] | Path | str = TEMPLATE_PATH,
    parameter_values: Mapping[str, Any] | None = None,
    region: str = "eu-west-2",
) -> dict[str, Any]:
    """The CloudFormation the SAM transform would produce, computed offline.

    Resource Metadata (e.g. checkov skips) is passed through to generated resources.
    Raises samtranslator's InvalidDocumentException when the template is invalid.
    """
    from samtranslator.translator.transform import transform  # noqa: PLC0415 - only this helper needs it

    source = load_template(template) if isinstance(template, (Path, str)) else copy.deepcopy(dict(template))
    _local_paths_to_s3(source)
    previous = os.environ.get("AWS_DEFAULT_REGION")
    os.environ["AWS_DEFAULT_REGION"] = region  # the translator builds ARNs for this partition/region
    try:
        transformed: dict[str, Any] = transform(
            source,
            dict(parameter_values or {}),
            _NoManagedPolicies(),  # duck-typed: only .load() is called
            passthrough_metadata=True,
        )
        return transformed
    finally:
        if previous is None:
            os.environ.pop("AWS_DEFAULT_REGION", None)
        else:
            os.environ["AWS_DEFAULT_REGION"] = previous
