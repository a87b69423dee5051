"""make bench: what every endpoint asks of AWS, KMS calls across many instances, cold imports,
and what it all costs.

1. Calls per operation by service (and by API) for every endpoint of template.yaml, through
   the real handlers on moto, with DynamoDB request units (tests/bench/endpoints.py,
   aws_usage.py); the notifier per intent, the authorizer per token, the clock per run; bulk
   import's three routes per request and its worker per row (a first import, then unchanged).
2. Steady-state KMS calls per search, registration and read from the multi-instance
   simulation (tests/bench/bench_keys.py), with the design before it in the same run.
3. Cold import of every function module: a fresh interpreter per measurement, Lambda's
   environment, several repeats, median; beside a bare `import boto3` measured in the same
   loop (the ratio is what counts on a shared machine). CPU time of the process is the
   figure (waiting for a busy machine's CPU is not the import's), wall time is shown too.
4. The cost model (tests/bench/cost_model.py): per 1M searches, per 1,000 registrations,
   per year at ContactPoint's design load and at 10x, storage at 500,000 children; bulk import
   per 15,000-row file, onboarding every local authority once, and monthly re-imports.

Latency here is moto in one process: our code plus moto's, not DynamoDB's round trips.
The last line is one JSON object with every figure.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "INFO")  # as deployed: log lines are priced

from infrastructure.local.aws import REGION, LocalAws  # noqa: E402
from tests.bench import bench_keys, cost_model  # noqa: E402
from tests.bench.endpoints import Endpoints  # noqa: E402
from tests.bench.storage_model import storage_model, table_bytes  # noqa: E402
from tests.support.lambda_events import route_table  # noqa: E402

POPULATION = int(os.environ.get("BENCH_POPULATION", "200"))
SEARCHES = int(os.environ.get("BENCH_SEARCHES", "200"))
REPS = int(os.environ.get("BENCH_REPS", "10"))
IMPORT_ROWS = int(os.environ.get("BENCH_ENDPOINT_IMPORT_ROWS", "300"))
IMPORT_REPEATS = int(os.environ.get("BENCH_IMPORT_REPEATS", "7"))
FUNCTIONS = tuple(sorted(spec.name for spec in route_table().functions.values()))
# What Lambda's python3.12 runtime sets, and what template.yaml's Globals set.
LAMBDA_ENV = {
    "LAMBDA_TASK_ROOT": "/tmp",
    "AWS_LAMBDA_FUNCTION_NAME": "signpost-bench",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "512",
    "AWS_EXECUTION_ENV": "AWS_Lambda_python3.12",
    "AWS_REGION": REGION,
    "AWS_DEFAULT_REGION": REGION,
    "POWERTOOLS_SERVICE_NAME": "signpost",
    "POWERTOOLS_METRICS_NAMESPACE": "Signpost",
    "POWERTOOLS_LOG_LEVEL": "INFO",
    "POWERTOOLS_TRACER_CAPTURE_RESPONSE": "false",
    "POWERTOOLS_TRACER_CAPTURE_ERROR": "false",
}
IMPORT_PROBE = (  # CPU and wall milliseconds to import `module` in a fresh interpreter
    "import time;c=time.process_time();w=time.perf_counter();import {module};"
    "print((time.process_time()-c)*1000,(time.perf_counter()-w)*1000)"
)


# ---------------------------------------------------------------- cold imports
LAYER_DIR = ROOT / ".bench" / "layer"
RUNTIME_DIR = ROOT / ".bench" / "runtime-python3.12"


def _python312() -> str | None:
    """A CPython 3.12 (the functions' runtime): on PATH, or a pyenv installation."""
    candidates = [
        shutil.which("python3.12"),
        *map(str, sorted(Path.home().glob(".pyenv/versions/3.12*/bin/python3.12"))),
    ]
    for found in filter(None, candidates):
        probe = subprocess.run(
            [found, "-c", "import sys; print(sys.version_info[:2])"],
            check=False,
            capture_output=True,
            text=True,
        )
        if probe.returncode == 0 and probe.stdout.strip() == "(3, 12)":
            return found
    return None


def lambda_layout() -> tuple[str, list[str]] | None:
    """The deployed artefacts, built for this machine: the layer by its own SAM Makefile, and the
    python3.12 runtime's boto3. None when python3.12 or PyPI is not at hand."""
    python = _python312()
    if python is None:
        return None
    platform_tag = "manylinux2014_aarch64" if os.uname().machine == "aarch64" else "manylinux2014_x86_64"
    shutil.rmtree(LAYER_DIR, ignore_errors=True)
    built = subprocess.run(
        [
            "make",
            "-s",
            "-C",
            "layers/signpost",
            "build-SignpostLayer",
            f"ARTIFACTS_DIR={LAYER_DIR}",
            f"PYTHON={python}",
            f"LAYER_PLATFORM={platform_tag}",
        ],
        check=False,
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    if built.returncode != 0:
        return None
    if not (RUNTIME_DIR / "boto3").exists():
        got = subprocess.run(
            [python, "-m", "pip", "install", "--quiet", "--target", str(RUNTIME_DIR), "boto3"],
            check=False,
            capture_output=True,
            text=True,
        )
        if got.returncode != 0:
            return None
        subprocess.run(
            [python, "-m", "compileall", "-q", "-j", "0", str(RUNTIME_DIR)], check=False, capture_output=True
        )
    return python, [str(LAYER_DIR / "python"), str(RUNTIME_DIR)]


def _import_ms(python: str, module: str, path: list[str], cwd: Path) -> tuple[float, float]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("POWERTOOLS_", "AWS_", "PYTHON"))}
    env |= LAMBDA_ENV | {"PYTHONDONTWRITEBYTECODE": "1"}
    code = f"import sys;sys.path[:0]={path!r};" + IMPORT_PROBE.format(module=module)
    res = subprocess.run(
        [python, "-S", "-c", code], cwd=cwd, env=env, capture_output=True, text=True, check=True
    )
    cpu, wall = res.stdout.strip().splitlines()[-1].split()
    return float(cpu), float(wall)


def cold_imports(repeats: int = IMPORT_REPEATS) -> dict[str, Any]:
    """Median ms to import each function's module and a bare `import boto3`, interleaved.

    As Lambda does it when it can be built here: python3.12 without site-packages, the
    function's folder (/var/task), the layer as `sam build` makes it (/opt/python) and the
    runtime's boto3 (/var/runtime). Otherwise the venv's interpreter and packages, with
    bytecode cached as the layer build precompiles it.
    """
    layout = lambda_layout()
    if layout is not None:
        python, base = layout
        method = "lambda layout: python3.12 -S, functions/<name>, the built layer, the runtime's boto3"
        targets = {"boto3": ("boto3", [str(RUNTIME_DIR)], Path("/"))}  # the runtime's own, alone
        targets |= {f: ("app", [str(ROOT / "functions" / f), *base], Path("/")) for f in FUNCTIONS}
    else:
        python = sys.executable
        method = "venv (python3.12 or PyPI not available): site-packages, bytecode cached"
        site = [p for p in sys.path if p.endswith("site-packages")]
        base = [str(ROOT), str(ROOT / "layers" / "signpost"), *site]
        targets = {"boto3": ("boto3", base, ROOT)} | {
            f: (f"functions.{f}.app", base, ROOT) for f in FUNCTIONS
        }
        for module, path, cwd in targets.values():  # write the bytecode once, as the layer build does
            subprocess.run(
                [python, "-c", f"import sys;sys.path[:0]={path!r};import {module}"],
                check=False,
                cwd=cwd,
                env={**os.environ, **LAMBDA_ENV, "PYTHONDONTWRITEBYTECODE": ""},
                capture_output=True,
            )
    runs: dict[str, list[tuple[float, float]]] = {name: [] for name in targets}
    for _ in range(repeats):
        for name, (module, path, cwd) in targets.items():
            runs[name].append(_import_ms(python, module, path, cwd))
    cpu = {name: statistics.median(r[0] for r in rs) for name, rs in runs.items()}
    wall = {name: statistics.median(r[1] for r in rs) for name, rs in runs.items()}
    return {
        "method": method,
        "repeats": repeats,
        "boto3_cpu_ms": round(cpu["boto3"], 1),
        "boto3_wall_ms": round(wall["boto3"], 1),
        "functions": {
            f: {
                "cpu_ms": round(cpu[f], 1),
                "wall_ms": round(wall[f], 1),
                "boto3_ratio": round(cpu[f] / cpu["boto3"], 2),
            }
            for f in FUNCTIONS
        },
        "max_boto3_ratio": round(max(cpu[f] / cpu["boto3"] for f in FUNCTIONS), 2),
        "max_cpu_ms": round(max(cpu[f] for f in FUNCTIONS), 1),
        "layer_mb": _size_mb(LAYER_DIR) if layout is not None else None,
        "layer_has_botocore": (LAYER_DIR / "python" / "botocore").exists() if layout is not None else None,
    }


def _size_mb(path: Path) -> float:
    return round(sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 1e6, 1)


# ---------------------------------------------------------------- costs
def costs(
    endpoints: dict[str, Any], kms: dict[str, Any], storage: dict[str, Any], *, once_until_read: bool = True
) -> dict[str, Any]:
    """Per 1M searches, per 1,000 registrations, a year at design load and at 10x, storage."""
    steady = kms["branch_keys"]
    kms_per_op = {
        "POST /v1/searches": steady["kms_per_search"],
        "POST /v1/children": steady["kms_per_registration"],
        "GET /v1/children/{child_id}": steady["kms_per_read"],
    }
    load = cost_model.DESIGN_LOAD
    rate = sum(v for k, v in load.per_day.items() if not k.startswith(cost_model.NOT_API)) / 86_400
    share = cost_model.announce_share(endpoints, load, once_until_read=once_until_read)
    batch = cost_model.seal_batch_size(endpoints, load)
    search = cost_model.per_operation(
        endpoints, "POST /v1/searches", kms_per_op["POST /v1/searches"], rate, share, batch
    )
    register = cost_model.per_operation(
        endpoints, "POST /v1/children", kms_per_op["POST /v1/children"], rate, share, batch
    )
    design = cost_model.yearly(endpoints, load, kms_per_op, storage, once_until_read=once_until_read)
    growth = storage["gb_after_one_year"] - storage["gb_at_start"]
    ten_storage = {**storage, "gb_after_one_year": storage["gb_at_start"] + 10 * growth}
    ten = cost_model.yearly(
        endpoints, load.scaled(10), kms_per_op, ten_storage, once_until_read=once_until_read
    )
    storage_month = cost_model.price("dynamodb_storage_gb_month") + cost_model.price("dynamodb_pitr_gb_month")
    return {
        "prices_as_of": cost_model.PRICES_AS_OF,
        "usd_per_million_searches": round(sum(search.values()) * 1e6, 2),
        "per_million_searches_by_line": {
            k: round(v * 1e6, 2) for k, v in sorted(search.items(), key=lambda kv: -kv[1])
        },
        "usd_per_thousand_registrations": round(sum(register.values()) * 1e3, 4),
        "per_thousand_registrations_by_line": {
            k: round(v * 1e3, 4) for k, v in sorted(register.items(), key=lambda kv: -kv[1])
        },
        "design_load_per_year": design,
        "ten_times_design_load_per_year": ten,
        "imports": cost_model.imports(endpoints, load, kms_per_op),
        "storage_usd_per_year_at_500k_children": round(storage["gb_at_start"] * 12 * storage_month, 2),
        "storage_usd_in_year_ten_at_design_load": round(
            (storage["gb_at_start"] + 10 * growth) * 12 * storage_month
        ),
        "storage": storage,
        "prices": cost_model.price_table(),
    }


def main() -> None:
    with LocalAws() as aws:
        bench = Endpoints(aws)
        print(f"registering {POPULATION} children…", file=sys.stderr)
        bench.populate(POPULATION)
        bench.warm()
        after_population = table_bytes(aws)
        print(f"searching {SEARCHES} times…", file=sys.stderr)
        outcomes = bench.searches(SEARCHES)
        after_searches = table_bytes(aws)
        print(f"every other endpoint, {REPS} times…", file=sys.stderr)
        bench.every_other_route(REPS)
        print(f"bulk import of {IMPORT_ROWS} rows, then the same file again…", file=sys.stderr)
        bench.imports(IMPORT_ROWS, REPS)
        endpoints = bench.summary()
        invocations = bench.stream.stats.invocations
        unmeasured = bench.unmeasured_routes()
    notifier = endpoints["notifier (per intent delivered)"]
    notifier["invocations_per_intent"] = round(invocations / max(bench.intents, 1), 3)
    # intents each endpoint's requests produce (counted from its outbox writes)
    for summary in endpoints.values():
        written = summary.get("items_written", {})
        summary["intents"] = float(sum(v for k, v in written.items() if k.endswith(":RecordsTable:OUTBOX")))
        summary["audit_entries"] = float(
            sum(v for k, v in written.items() if k.startswith("written:Put:AuditTable:"))
        )
    storage = storage_model(after_population, after_searches, len(bench.children), SEARCHES)
    print("KMS across instances (multi-instance simulation)…", file=sys.stderr)
    kms = bench_keys.simulate()
    print("cold imports…", file=sys.stderr)
    imports = cold_imports()
    figures = {
        "population": len(bench.children),
        "search_outcomes": dict(outcomes),
        "calls_per_operation": endpoints,
        "not_measured_routes": unmeasured,
        "kms_steady_state": {
            "kms_per_search": kms["branch_keys"]["kms_per_search"],
            "kms_per_registration": kms["branch_keys"]["kms_per_registration"],
            "kms_per_read": kms["branch_keys"]["kms_per_read"],
            "before_kms_per_search": kms["before_data_keys"]["kms_per_search"],
            "before_kms_per_registration": kms["before_data_keys"]["kms_per_registration"],
            "simulation": kms,
        },
        "cold_import": imports,
        "cost": costs(endpoints, kms, storage),
    }
    _print_summary(figures)
    print(json.dumps(figures, sort_keys=True))


def _print_summary(figures: dict[str, Any]) -> None:
    endpoints = figures["calls_per_operation"]
    print(
        f"{'endpoint':58} {'ddb':>5} {'kms':>5} {'sns':>5} {'s3':>5} {'sqs':>5} "
        f"{'RRU':>6} {'WRU':>6} {'idxWRU':>6}",
        file=sys.stderr,
    )
    for label, row in endpoints.items():
        by = row["calls_by_service"]
        units = row["dynamodb_units"]
        print(
            f"{label[:58]:58} {by.get('dynamodb', 0):5} {by.get('kms', 0):5} {by.get('sns', 0):5} "
            f"{by.get('s3', 0):5} {by.get('sqs', 0):5} "
            f"{units.get('rru', 0):6} {units.get('wru', 0):6} {units.get('wru_index', 0):6}",
            file=sys.stderr,
        )
    kms = figures["kms_steady_state"]
    print(
        f"KMS per search {kms['kms_per_search']} (before {kms['before_kms_per_search']}), per registration "
        f"{kms['kms_per_registration']} (before {kms['before_kms_per_registration']})",
        file=sys.stderr,
    )
    imports = figures["cold_import"]
    print(
        f"cold import (CPU ms, ratio to boto3 {imports['boto3_cpu_ms']} ms): "
        + ", ".join(f"{f} {v['cpu_ms']} ({v['boto3_ratio']}x)" for f, v in imports["functions"].items()),
        file=sys.stderr,
    )
    cost = figures["cost"]
    print(
        f"cost: ${cost['usd_per_million_searches']} per 1M searches, "
        f"${cost['usd_per_thousand_registrations']} per 1,000 registrations, "
        f"${cost['design_load_per_year']['usd_per_year']:,} a year at design load "
        f"(largest line: {cost['design_load_per_year']['largest_line']}), "
        f"${cost['ten_times_design_load_per_year']['usd_per_year']:,} at 10x",
        file=sys.stderr,
    )
    print("a year at design load, USD by line:", cost["design_load_per_year"]["by_line_usd"], file=sys.stderr)
    imports = cost["imports"]
    print(
        f"imports ({imports['assumption']}): ${imports['usd_file_of_15000_rows_first_import']} a 15,000-row "
        f"file (first import), ${imports['usd_file_of_15000_rows_unchanged']} uploaded again unchanged; "
        f"onboarding ${imports['usd_onboarding_once']:,} once, monthly re-imports "
        f"${imports['usd_monthly_reimports_per_year']:,} a year (in the design-load total)",
        file=sys.stderr,
    )
    if figures["not_measured_routes"]:
        print("NOT MEASURED:", figures["not_measured_routes"], file=sys.stderr)


if __name__ == "__main__":
    main()
