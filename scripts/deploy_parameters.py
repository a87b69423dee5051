"""The stack parameters of one deployment: samconfig.toml's policy values plus the account's own.

    python scripts/deploy_parameters.py staging|prod [--ssm]   # prints Name="Value", one a line

samconfig.toml holds what is the same wherever an environment is deployed (retention,
limits, production's reserved concurrency). What belongs to one AWS account comes from
the environment the deploy runs in:

    JwtIssuer        SIGNPOST_JWT_ISSUER          required
    JwtAudience      SIGNPOST_JWT_AUDIENCE        required
    JwksUrl          SIGNPOST_JWKS_URL            required
    AlarmEmail       SIGNPOST_ALARM_EMAIL         empty = no e-mail subscription
    DomainName       SIGNPOST_DOMAIN_NAME         empty = the execute-api URL only
    CertificateArn   SIGNPOST_CERTIFICATE_ARN     required with DomainName
    MtlsTruststoreUri SIGNPOST_MTLS_TRUSTSTORE_URI empty = no mutual TLS

(GitHub environment variables in CD), or with --ssm from SSM parameters
/signpost/<env>/<Name> (a variable set in the environment wins). Every value is checked
against the template's own constraints and refused if it looks like a placeholder, so a
deploy that would create a stack refusing every token stops here instead.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from infrastructure.cfn_yaml import load_template  # noqa: E402

SAMCONFIG = REPO / "samconfig.toml"
ACCOUNT_PARAMETERS: Mapping[str, str] = {
    "JwtIssuer": "SIGNPOST_JWT_ISSUER",
    "JwtAudience": "SIGNPOST_JWT_AUDIENCE",
    "JwksUrl": "SIGNPOST_JWKS_URL",
    "AlarmEmail": "SIGNPOST_ALARM_EMAIL",
    "DomainName": "SIGNPOST_DOMAIN_NAME",
    "CertificateArn": "SIGNPOST_CERTIFICATE_ARN",
    "MtlsTruststoreUri": "SIGNPOST_MTLS_TRUSTSTORE_URI",
}
# Values that are somebody's example, never a real account's.
PLACEHOLDER = re.compile(
    r"[<>]|\.\.\.|\bexample\b|changeme|\btodo\b|\bxxx+\b|111122223333|123456789012", re.I
)


class ParameterError(Exception):
    pass


def samconfig_parameters(env: str, path: Path = SAMCONFIG) -> dict[str, str]:
    config = tomllib.loads(path.read_text(encoding="utf-8"))
    try:
        overrides = config[env]["deploy"]["parameters"].get("parameter_overrides", [])
    except KeyError:
        raise ParameterError(f"samconfig.toml has no [{env}.deploy.parameters]") from None
    if isinstance(overrides, str):
        overrides = overrides.split()
    return dict(item.split("=", 1) for item in overrides)


def ssm_parameters(env: str) -> dict[str, str]:
    import boto3  # noqa: PLC0415 - only with --ssm

    client = boto3.client("ssm")
    found: dict[str, str] = {}
    for page in client.get_paginator("get_parameters_by_path").paginate(
        Path=f"/signpost/{env}/", WithDecryption=True
    ):
        for parameter in page["Parameters"]:
            found[parameter["Name"].rsplit("/", 1)[-1]] = parameter["Value"]
    return found


def check(name: str, value: str, spec: Mapping[str, Any]) -> None:
    """The template's own constraints for a parameter, and no placeholder."""
    if value and PLACEHOLDER.search(value):
        raise ParameterError(f"{name} looks like a placeholder, not a real value")
    if "AllowedValues" in spec and value not in [str(v) for v in spec["AllowedValues"]]:
        raise ParameterError(f"{name} must be one of {spec['AllowedValues']}")
    if "AllowedPattern" in spec and not re.fullmatch(spec["AllowedPattern"], value):
        raise ParameterError(f"{name} does not match {spec['AllowedPattern']}")
    if spec.get("Type") == "Number":
        try:
            number = float(value)
        except ValueError:
            raise ParameterError(f"{name} must be a number") from None
        if "MinValue" in spec and number < float(spec["MinValue"]):
            raise ParameterError(f"{name} must be at least {spec['MinValue']}")
    if "MinLength" in spec and len(value) < int(spec["MinLength"]):
        raise ParameterError(f"{name} must not be empty")


def parameters(env: str, environ: Mapping[str, str], ssm: Mapping[str, str] | None = None) -> dict[str, str]:
    spec = load_template(REPO / "template.yaml")["Parameters"]
    values = samconfig_parameters(env)
    for name, variable in ACCOUNT_PARAMETERS.items():
        if name in values:
            raise ParameterError(f"{name} belongs to the account: set {variable}, not samconfig.toml")
        if variable in environ:
            values[name] = environ[variable].strip()
        elif ssm and name in ssm:
            values[name] = ssm[name].strip()
        elif "Default" not in spec[name]:
            raise ParameterError(f"{name} is required: set {variable} (or /signpost/{env}/{name} in SSM)")
        else:
            values[name] = str(spec[name]["Default"])  # explicit, so an emptied value clears the stack's
    if values.get("Environment") != env:
        raise ParameterError(f"samconfig.toml's [{env}] section must set Environment={env}")
    if values.get("DomainName") and not values.get("CertificateArn"):
        raise ParameterError("DomainName needs CertificateArn (SIGNPOST_CERTIFICATE_ARN)")
    for name, value in values.items():
        if name not in spec:
            raise ParameterError(f"template.yaml has no parameter {name}")
        check(name, value, spec[name])
    # Every other parameter at its default, explicitly: the stack is what the repository says,
    # never a value left over from an earlier deployment.
    values.update({n: str(p["Default"]) for n, p in spec.items() if n not in values and "Default" in p})
    return values


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Print the stack parameters of one deployment, Name=Value a line."
    )
    parser.add_argument("env", help="the samconfig.toml section (staging or prod)")
    parser.add_argument("--ssm", action="store_true", help="also read /signpost/<env>/<Name> from SSM")
    args = parser.parse_args(argv)
    try:
        values = parameters(args.env, os.environ, ssm_parameters(args.env) if args.ssm else None)
    except ParameterError as problem:
        print(f"deploy parameters: {problem}", file=sys.stderr)
        return 2
    for name, value in values.items():
        print(override(name, value))
    return 0


def override(name: str, value: str) -> str:
    """One `sam deploy --parameter-overrides` argument; quoted, so an empty value means empty."""
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'{name}="{escaped}"'


if __name__ == "__main__":
    sys.exit(main())
