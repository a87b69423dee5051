#!/usr/bin/env bash
# Deploy one environment from a built template: the same artefact for every environment.
#   scripts/deploy.sh ENV [TEMPLATE] [more `sam deploy` options]
# Needs the SAM CLI, credentials for ENV's AWS account, the account's parameters in the
# environment (see scripts/deploy_parameters.py; SIGNPOST_PARAMETERS_FROM_SSM=1 reads SSM too)
# and SIGNPOST_ARTIFACT_BUCKET (the pipeline stack's ArtifactBucket output; without it SAM's
# own managed bucket is used, as for a first try by hand).
set -euo pipefail
cd "$(dirname "$0")/.."
env="${1:?usage: scripts/deploy.sh staging|prod [template] [sam deploy options]}"
template="${2:-.aws-sam/build/template.yaml}"
shift $(( $# > 1 ? 2 : 1 ))

overrides_file="$(mktemp)"
trap 'rm -f "$overrides_file"' EXIT
"${PYTHON:-python3}" scripts/deploy_parameters.py "$env" ${SIGNPOST_PARAMETERS_FROM_SSM:+--ssm} >"$overrides_file"
mapfile -t overrides <"$overrides_file"

if [[ -n "${SIGNPOST_ARTIFACT_BUCKET:-}" ]]; then
  bucket=(--s3-bucket "$SIGNPOST_ARTIFACT_BUCKET")
else
  bucket=(--resolve-s3)
fi

sam deploy --config-env "$env" --template-file "$template" "${bucket[@]}" \
  --parameter-overrides "${overrides[@]}" "$@"
