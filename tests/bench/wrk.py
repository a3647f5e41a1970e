"""Drive a request mix with wrk (Debian package `wrk`), which costs the server's machine far less CPU than a Python client.

A mix is a list of requests with weights; it becomes a Lua script that picks one at random for each
request. `rate` paces each connection (wrk's delay(), a random wait with the right mean, so arrivals
are not in lockstep) so the whole run aims at that many requests per second; without it wrk goes flat
out. Returns requests/s, latency percentiles and errors as wrk counted.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from urllib.parse import urlencode

LUA = """
local mix = %(mix)s
local total = 0
for _, r in ipairs(mix) do total = total + r.weight end
local counter = 0
local delay_ms = %(delay)s

request = function()
  local pick = math.random() * total
  local chosen = mix[#mix]
  for _, r in ipairs(mix) do
    pick = pick - r.weight
    if pick <= 0 then chosen = r break end
  end
  counter = counter + 1
  local body = chosen.body and string.gsub(chosen.body, "{n}", tostring(counter) .. tostring(math.random(1, 1000000000))) or nil
  return wrk.format(chosen.method, chosen.path, chosen.headers, body)
end

-- Open loop: each connection waits an exponentially distributed time (mean delay_ms) before its next
-- request, so arrivals are random as people's are. A fixed delay keeps every connection in step and
-- turns 300 requests a second into a burst of all of them at once, several times a second.
if delay_ms > 0 then
  math.randomseed(os.time())
  -- Capped below uvicorn's 5 s keep-alive timeout: a longer wait finds its connection closed.
  delay = function() return math.min(4000, math.floor(-math.log(1 - math.random()) * delay_ms)) end
end
"""


# For a surge past capacity: count the "very busy" answers (503, routes.middleware.AdmissionMiddleware) apart from other errors.
COUNT_SHED = """
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) shed = 0 end
function response(status, headers, body) if status == 503 then shed = shed + 1 end end
function done(summary, latency, requests)
  local total = 0
  for _, t in ipairs(threads) do total = total + t:get("shed") end
  io.write(string.format("Shed (503): %d\\n", total))
end
"""


def available() -> bool:
    return shutil.which("wrk") is not None


def _lua_table(requests: list[dict]) -> str:
    # JSON arrays and objects map onto Lua tables once brackets and keys are rewritten.
    parts = []
    for r in requests:
        headers = ", ".join(f"[{json.dumps(k)}] = {json.dumps(v)}" for k, v in r["headers"].items())
        body = f", body = {json.dumps(r['body'])}" if r.get("body") else ""
        parts.append(f"{{ method = {json.dumps(r['method'])}, path = {json.dumps(r['path'])}, weight = {r['weight']}, headers = {{ {headers} }}{body} }}")
    return "{\n  " + ",\n  ".join(parts) + "\n}"


def requests_from(steps: list[dict], csrf_cookie: str, csrf_token: str, host: str) -> list[dict]:
    """Scenario steps (as tests/bench/loadgen.py takes them) as raw wrk requests with their cookies."""
    out = []
    for step in steps:
        if step.get("flow"):
            continue  # flows need per-connection cookies, which wrk's Lua cannot keep; loadgen measures them
        cookie = f"csrftoken={csrf_cookie}" + (f"; civic_session={step['cookie']}" if step.get("cookie") else "")
        headers = {"Host": host, "Cookie": cookie, "Accept-Encoding": "gzip"}
        method = step.get("method", "GET")
        body = None
        if method == "POST":
            body = urlencode({**step.get("form", {}), "csrftoken": csrf_token}).replace("%7Bn%7D", "{n}")
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        out.append({"method": method, "path": step["path"], "weight": step.get("weight", 1), "headers": headers, "body": body})
    return out


def _ms(text: str) -> float:
    number, unit = re.match(r"([\d.]+)(\w+)", text).groups()  # type: ignore[union-attr]
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def run(url: str, requests: list[dict], seconds: float, connections: int, work: Path, rate: float = 0, count_shed: bool = False) -> dict:
    # Each connection waits `delay` and then for its answer, so aim 5% fast to land on the rate.
    delay = round(connections * 1000 / rate * 0.95) if rate else 0
    script = work / f"mix-{abs(hash((url, seconds, connections, rate)))}.lua"
    script.write_text(LUA % {"mix": _lua_table(requests), "delay": delay} + (COUNT_SHED if count_shed else ""))
    out = subprocess.run(
        ["wrk", "-t1", f"-c{connections}", f"-d{int(seconds)}s", "--latency", "--timeout", "10s", "-s", str(script), url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    figures = {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))}  # type: ignore[union-attr]
    for percentile in ("50", "90", "99"):
        found = re.search(rf"^\s+{percentile}%\s+(\S+)", out, re.M)
        figures[f"p{percentile}_ms"] = round(_ms(found.group(1)), 1) if found else 0.0
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    socket = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    figures["errors"] = (int(non_2xx.group(1)) if non_2xx else 0) + (sum(int(x) for x in socket.groups()) if socket else 0)
    if figures["errors"]:
        figures["error_detail"] = ((non_2xx.group(0) + "; ") if non_2xx else "") + (socket.group(0) if socket else "")
    shed = re.search(r"Shed \(503\): (\d+)", out)
    if shed:
        figures["shed"] = int(shed.group(1))
    figures["requests"] = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    return figures
