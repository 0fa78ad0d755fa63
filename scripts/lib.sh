#!/usr/bin/env bash
# Shared by the scripts that source it after defining `log`: stop_service for the service scripts
# (kafka.sh, influxdb.sh, schema-registry.sh; they also define `running_pid`, PIDFILE and
# STOP_TIMEOUT), pinned_venv for the Python environments (origin-venv.sh, registry-consumer-venv.sh).

# pid_file_process PATTERN: the pid in PIDFILE when that process is alive and its command line holds
# PATTERN (a recycled pid belongs to another program), else failure.
pid_file_process() {
  [[ -f "$PIDFILE" ]] || return 1
  local pid
  pid="$(cat "$PIDFILE")"
  [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null || return 1
  grep -q -- "$1" "/proc/$pid/cmdline" 2>/dev/null || return 1
  echo "$pid"
}

# down: SIGTERM our process, SIGKILL once STOP_TIMEOUT seconds have passed, forget its pid.
stop_service() {
  local pid
  if ! pid="$(running_pid)"; then
    log "not running"
    rm -f "$PIDFILE"
    return 0
  fi
  kill -TERM "$pid"
  local deadline=$((SECONDS + STOP_TIMEOUT))
  while kill -0 "$pid" 2>/dev/null; do
    if ((SECONDS >= deadline)); then
      log "no exit after ${STOP_TIMEOUT} s; SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
      break
    fi
    sleep 0.1
  done
  rm -f "$PIDFILE"
  log "stopped (pid $pid)"
}

# pinned_venv COMMAND VENV REQUIREMENTS PYTHON_MIN NOTE READY_CODE: a Python venv with pinned packages.
#   install  create VENV (if missing) and install REQUIREMENTS from PyPI; a stamp file holds the
#            requirements' hash, so a second install with the same pins does nothing. NOTE follows the
#            package count in the log; READY_CODE is Python that prints what was installed.
#   python   print the venv's python path (after install)
pinned_venv() {
  local command="$1" venv="$2" requirements="$3" python_min="$4" note="$5" ready="$6"
  local stamp="$venv/.crowdpulse-requirements.sha256"
  case "$command" in
    install)
      local want
      want="$(sha256sum "$requirements" | cut -d' ' -f1)"
      if [[ -x $venv/bin/python && -f $stamp && "$(cat "$stamp")" == "$want" ]]; then
        log "up to date: $venv"
        return 0
      fi
      local python="${PYTHON:-python3}" start=$SECONDS
      command -v "$python" >/dev/null || { log "$python not found: install Python >= $python_min"; exit 3; }
      if [[ ! -x $venv/bin/python ]]; then
        log "creating $venv"
        mkdir -p "$(dirname "$venv")"
        "$python" -m venv "$venv"
      fi
      log "installing $(grep -cv '^\s*\(#\|$\)' "$requirements") pinned packages from PyPI$note"
      "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$requirements"
      echo "$want" >"$stamp"
      log "ready in $((SECONDS - start)) s: $("$venv/bin/python" -c "$ready")"
      ;;
    python)
      [[ -x $venv/bin/python ]] || { log "no venv at $venv: run $0 install"; exit 3; }
      echo "$venv/bin/python"
      ;;
    *) echo "usage: $0 install | python" >&2; exit 2 ;;
  esac
}
