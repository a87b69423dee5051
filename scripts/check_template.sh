#!/usr/bin/env bash
# Static checks of template.yaml, offline (no AWS account, no Docker):
#   1. cfn-lint on the SAM template
#   2. checkov on the SAM template
#   3. the SAM transform (aws-sam-translator's Python API, as `sam deploy` would run it),
#      then cfn-lint and checkov on the CloudFormation it produces (.aws-sam/transformed.json);
#   4. cfn-lint and checkov on infrastructure/pipeline/template.yaml (the CD stack).
# Every checkov skip is inline in template.yaml (Metadata: checkov: skip, with a reason); the
# translator passes that Metadata on to the resources it generates, so no skip lists live here.
# Exits non-zero if any step fails; ends with a one-line summary per step.
set -uo pipefail
cd "$(dirname "$0")/.."

BIN="${VENV:-.venv}/bin"
TEMPLATE="${1:-template.yaml}"  # another path only to try the checks on a variant
OUT=.aws-sam
TRANSFORMED="$OUT/transformed.json"
mkdir -p "$OUT"

status=0
summary=()

lint() {  # lint <file>
  if "$BIN/cfn-lint" "$1"; then
    summary+=("cfn-lint  $1: passed")
  else
    summary+=("cfn-lint  $1: FAILED")
    status=1
  fi
}

scan() {  # scan <file>: checkov; the counts come from its summary line
  local log="$OUT/checkov-$(echo "$1" | tr / -).log" rc counts
  "$BIN/checkov" -f "$1" --framework cloudformation --quiet --compact --skip-download >"$log" 2>&1
  rc=$?
  cat "$log"
  counts=$(grep -Eo 'Passed checks: [0-9]+, Failed checks: [0-9]+, Skipped checks: [0-9]+' "$log" | tail -1)
  if [[ $rc -ne 0 || -z "$counts" || "$counts" == "Passed checks: 0,"* ]]; then
    summary+=("checkov   $1: FAILED (${counts:-no results, exit $rc})")
    status=1
  else
    summary+=("checkov   $1: ${counts}")
  fi
}

lint "$TEMPLATE"
scan "$TEMPLATE"

if "$BIN/python" - "$TEMPLATE" "$TRANSFORMED" <<'PY'
import json
import sys

from samtranslator.model.exceptions import InvalidDocumentException

from infrastructure.cfn_yaml import translate_template

try:
    transformed = translate_template(sys.argv[1])
except InvalidDocumentException as error:
    for cause in error.causes:
        print(f"SAM transform: {cause.message}", file=sys.stderr)
    sys.exit(1)
with open(sys.argv[2], "w", encoding="utf-8") as out:
    json.dump(transformed, out, indent=1)
PY
then
  summary+=("sam-translator: transformed -> $TRANSFORMED")
  lint "$TRANSFORMED"
  scan "$TRANSFORMED"
else
  summary+=("sam-translator: FAILED (no transformed template to check)")
  status=1
fi

# The CD stack of each account (GitHub OIDC provider, deploy and audit-verifier roles).
PIPELINE=infrastructure/pipeline/template.yaml
if [[ "$TEMPLATE" == template.yaml ]]; then
  lint "$PIPELINE"
  scan "$PIPELINE"
fi

echo
echo "== template checks =="
printf '%s\n' "${summary[@]}"
exit "$status"
