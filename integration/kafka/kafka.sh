#!/usr/bin/env bash
# kafka.sh — a throwaway single-node Apache Kafka 4.x broker (KRaft, combined
# broker+controller) for riptide's integration tests, without Docker.
#
#   kafka.sh up      resolve the broker's jars with Maven (cached), format a
#                    fresh log dir, start the broker in the background and wait
#                    until it serves metadata. Prints the bootstrap address as
#                    the last line of stdout (progress and version go to stderr).
#                    Already up: prints the address again.
#   kafka.sh down    stop the broker (SIGTERM, SIGKILL after a deadline) and
#                    remove its data. Already down: does nothing, succeeds.
#   kafka.sh status  prints the address and exits 0 when the broker is up,
#                    exits 1 when it is not.
#   kafka.sh stop    stop the broker but keep its data (a broker outage).
#   kafka.sh start   start the broker again on the data 'stop' kept (its
#                    topics, offsets and groups survive); without kept data
#                    it is 'up'. Prints the address as 'up' does.
#
# Needs java (17+), mvn (only until the classpath is cached) and, for the
# readiness check, kcat (without it the broker's "Kafka Server started" log line
# and an open port are taken as ready).
#
# Environment (defaults in brackets):
#   KAFKA_STATE           state dir: classpath cache, config, data, log, pid [/tmp/riptide-kafka]
#   KAFKA_PORT            PLAINTEXT listener on 127.0.0.1 [39092]
#   KAFKA_CONTROLLER_PORT CONTROLLER listener on 127.0.0.1 [KAFKA_PORT+1]
#   KAFKA_VERSION         org.apache.kafka:kafka_2.13 version [the one in pom.xml]
#   KAFKA_HEAP_OPTS       JVM heap [-Xms256m -Xmx1g]
#   KAFKA_JVM_OPTS        extra JVM options []
#   KAFKA_EXTRA_CONFIG    extra server.properties lines, appended (win) []
#   KAFKA_START_TIMEOUT   seconds to wait for the broker to come up [90]
#   KAFKA_STOP_TIMEOUT    seconds to wait after SIGTERM before SIGKILL [30]
#   MAVEN_REPO_LOCAL      Maven local repository [Maven's default, ~/.m2/repository]
#   JAVA_HOME, MVN        which java / mvn to use [java and mvn on PATH]
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
POM="$HERE/pom.xml"
STATE="${KAFKA_STATE:-/tmp/riptide-kafka}"
PORT="${KAFKA_PORT:-39092}"
CPORT="${KAFKA_CONTROLLER_PORT:-$((PORT + 1))}"
HOST=127.0.0.1
ADDR="$HOST:$PORT"
START_TIMEOUT="${KAFKA_START_TIMEOUT:-90}"
STOP_TIMEOUT="${KAFKA_STOP_TIMEOUT:-30}"
MVN="${MVN:-mvn}"
if [[ -n "${JAVA_HOME:-}" && -x "$JAVA_HOME/bin/java" ]]; then JAVA="$JAVA_HOME/bin/java"; else JAVA=java; fi

PIDFILE="$STATE/kafka.pid"
ADDRFILE="$STATE/bootstrap"
PROPS="$STATE/server.properties"
LOG4J="$STATE/log4j2.properties"
LOG="$STATE/kafka.log"
DATA="$STATE/data"

say() { printf 'kafka.sh: %s\n' "$*" >&2; }
die() { printf 'kafka.sh: ERROR: %s\n' "$*" >&2; exit 1; }
now_ms() { date +%s%3N; }
elapsed() { local ms=$(( $(now_ms) - $1 )); printf '%d.%01ds' $((ms / 1000)) $(((ms % 1000) / 100)); }

usage() {
	sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}" >&2
	exit "${1:-2}"
}

# pom_version prints the Kafka version pinned in pom.xml.
pom_version() {
	sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$POM" | head -n1
}

# our_pid prints the pid of the broker this state dir runs, if it is alive:
# the pid file's process, checked to be kafka.Kafka with our config, or else
# (pid file lost) a process whose command line names our server.properties.
our_pid() {
	local pid cmd p
	if [[ -s "$PIDFILE" ]]; then
		pid="$(cat "$PIDFILE")"
		if [[ "$pid" =~ ^[0-9]+$ && -r /proc/$pid/cmdline ]]; then
			cmd="$(tr '\0' ' ' </proc/"$pid"/cmdline 2>/dev/null || true)"
			if [[ "$cmd" == *kafka.Kafka*"$PROPS"* ]]; then echo "$pid"; return 0; fi
		fi
	fi
	for p in /proc/[0-9]*; do
		cmd="$(tr '\0' ' ' <"$p/cmdline" 2>/dev/null || true)"
		if [[ "$cmd" == *" kafka.Kafka $PROPS"* ]]; then echo "${p#/proc/}"; return 0; fi
	done
	return 1
}

# port_open HOST PORT: something accepts TCP connections there.
port_open() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

# broker_ready ADDR: the broker answers a metadata request listing itself.
broker_ready() {
	if command -v kcat >/dev/null 2>&1; then
		local md
		md="$(kcat -b "$1" -L -m 3 2>/dev/null)" || return 1
		[[ "$md" == *" brokers:"* ]] || return 1
		grep -q 'Kafka Server started' "$LOG" 2>/dev/null
	else
		grep -q 'Kafka Server started' "$LOG" 2>/dev/null && port_open "${1%:*}" "${1##*:}"
	fi
}

broker_version() {
	sed -n 's/.*Kafka version: \([^ ]*\).*/\1/p' "$LOG" 2>/dev/null | head -n1
}

check_java() {
	command -v "$JAVA" >/dev/null 2>&1 || die "java not found (install a JDK 17+ or set JAVA_HOME)"
	local v major
	v="$("$JAVA" -version 2>&1 | sed -n 's/.*version "\([^"]*\)".*/\1/p' | head -n1)"
	major="${v%%.*}"
	[[ "$major" =~ ^[0-9]+$ ]] || die "cannot tell the version of $JAVA (got '${v}')"
	((major >= 17)) || die "Kafka 4.x needs Java 17 or newer; $JAVA is $v"
}

# classpath prints the broker's classpath, resolving it with Maven unless a
# cached one (same pom.xml and version, every jar still present) exists.
classpath() {
	local version="$1" key cache tmp mlog jar ok=1 t0
	key="$( (cat "$POM"; echo "$version ${MAVEN_REPO_LOCAL:-}") | sha256sum | cut -c1-16)"
	cache="$STATE/classpath-$version-$key.txt"
	if [[ -s "$cache" ]]; then
		while IFS= read -r -d: jar || [[ -n "$jar" ]]; do
			jar="${jar%$'\n'}"
			[[ -f "$jar" ]] || { ok=0; break; }
		done <"$cache"
		if ((ok)); then cat "$cache"; return 0; fi
		say "cached classpath names missing jars ($jar); resolving again"
	fi
	command -v "$MVN" >/dev/null 2>&1 || die "mvn not found: needed once to resolve org.apache.kafka:kafka_2.13:$version"
	say "resolving org.apache.kafka:kafka_2.13:$version and log4j2 with Maven (about 60 MB to download if the Maven repository lacks them) ..."
	t0=$(now_ms)
	tmp="$cache.tmp.$$"
	mlog="$STATE/mvn.log"
	local -a args=(-B -f "$POM" "-Dkafka.version=$version" dependency:build-classpath
		"-Dmdep.outputFile=$tmp" -Dmdep.includeScope=runtime)
	[[ -n "${MAVEN_REPO_LOCAL:-}" ]] && args+=("-Dmaven.repo.local=$MAVEN_REPO_LOCAL")
	if ! "$MVN" "${args[@]}" >"$mlog" 2>&1 || [[ ! -s "$tmp" ]]; then
		rm -f "$tmp"
		{
			echo "kafka.sh: ERROR: Maven could not resolve org.apache.kafka:kafka_2.13:$version (+ log4j2) from $POM"
			echo "kafka.sh: command: $MVN ${args[*]}"
			echo "kafka.sh: Maven's errors (full log: $mlog):"
			grep -E '^\[ERROR\]|Could not|not found|Failure' "$mlog" | head -n 20 | sed 's/^/    /' || true
			echo "kafka.sh: (try another 4.x version: KAFKA_VERSION=4.3.1 $0 up)"
		} >&2
		exit 1
	fi
	mv "$tmp" "$cache"
	say "classpath resolved in $(elapsed "$t0") ($(tr ':' '\n' <"$cache" | wc -l) jars, cached in $cache)"
	cat "$cache"
}

write_config() {
	cat >"$PROPS" <<EOF
# Written by integration/kafka/kafka.sh: a single-node KRaft test broker.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@$HOST:$CPORT
listeners=PLAINTEXT://$HOST:$PORT,CONTROLLER://$HOST:$CPORT
advertised.listeners=PLAINTEXT://$HOST:$PORT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=$DATA
# One broker: replication 1 everywhere, internal topics included.
default.replication.factor=1
min.insync.replicas=1
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
# Fewer internal partitions than production (50): quicker first group join.
offsets.topic.num.partitions=8
transaction.state.log.num.partitions=8
num.partitions=1
auto.create.topics.enable=false
# Tests: no initial rebalance delay, and allow short session timeouts.
group.initial.rebalance.delay.ms=0
group.min.session.timeout.ms=500
# Time retention acts on record timestamps, and riptide capture stamps records
# with capture time: a replayed capture older than a topic's retention.ms is
# deleted at the next retention check (every 5 min by default), maybe before it
# was consumed. Check hourly, so that a test rarely meets a check. Not never:
# the first check runs log.initial.task.delay.ms (30 s) after the start, while
# the integration suite runs; riptide's event-time topics have no time
# retention, so the captures replayed into them survive it.
log.retention.check.interval.ms=3600000
EOF
	if [[ -n "${KAFKA_EXTRA_CONFIG:-}" ]]; then
		printf '# KAFKA_EXTRA_CONFIG\n%s\n' "$KAFKA_EXTRA_CONFIG" >>"$PROPS"
	fi
	cat >"$LOG4J" <<'EOF'
status = warn
appender.out.type = Console
appender.out.name = STDOUT
appender.out.layout.type = PatternLayout
appender.out.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.out.ref = STDOUT
logger.request.name = kafka.request.logger
logger.request.level = WARN
EOF
}

# random_cluster_id prints a Kafka Uuid: 16 random bytes, base64url, no padding.
random_cluster_id() {
	head -c16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n'
}

cmd_up() {
	local keep="${1:-}"
	mkdir -p "$STATE"
	exec 9>"$STATE/.lock"
	flock -w "$((START_TIMEOUT + 120))" 9 || die "another kafka.sh holds $STATE/.lock"
	local t0 pid p2 version cp deadline running_addr
	t0=$(now_ms)

	if pid="$(our_pid)"; then
		running_addr="$(cat "$ADDRFILE" 2>/dev/null || echo "?")"
		[[ "$running_addr" == "$ADDR" ]] ||
			die "a broker from $STATE is already running at $running_addr (pid $pid), not $ADDR: run '$0 down' first or use another KAFKA_STATE"
		if broker_ready "$ADDR"; then
			say "already up: Apache Kafka $(broker_version) at $ADDR (pid $pid)"
			echo "$ADDR"
			return 0
		fi
		say "broker pid $pid is running but not ready yet; waiting"
	else
		rm -f "$PIDFILE" "$ADDRFILE"
		if port_open "$HOST" "$PORT"; then
			die "port $HOST:$PORT is already in use by another process (not a broker of $STATE); set KAFKA_PORT"
		fi
		if port_open "$HOST" "$CPORT"; then
			die "controller port $HOST:$CPORT is already in use; set KAFKA_CONTROLLER_PORT"
		fi
		check_java
		version="${KAFKA_VERSION:-$(pom_version)}"
		[[ -n "$version" ]] || die "no Kafka version (set KAFKA_VERSION or <kafka.version> in $POM)"
		cp="$(classpath "$version")"

		write_config
		local cid fmt_log="$STATE/format.log"
		if [[ "$keep" == keep && -s "$DATA/meta.properties" ]]; then
			cid="$(sed -n 's/^cluster.id=//p' "$DATA/meta.properties")"
			say "starting on the data kept in $DATA (cluster $cid)"
		else
			rm -rf "$DATA"
			cid="$(random_cluster_id)"
			if ! "$JAVA" -Dlog4j2.configurationFile="$LOG4J" -cp "$cp" kafka.tools.StorageTool \
				format --cluster-id="$cid" -c "$PROPS" >"$fmt_log" 2>&1; then
				sed 's/^/    /' "$fmt_log" >&2
				die "formatting $DATA failed (kafka.tools.StorageTool format --cluster-id=$cid -c $PROPS)"
			fi
		fi

		# setsid: the broker outlives the shell (or make) that started it.
		# shellcheck disable=SC2086
		setsid "$JAVA" ${KAFKA_HEAP_OPTS:--Xms256m -Xmx1g} -XX:+ExitOnOutOfMemoryError \
			-Djava.awt.headless=true -Dlog4j2.configurationFile="$LOG4J" ${KAFKA_JVM_OPTS:-} \
			-cp "$cp" kafka.Kafka "$PROPS" </dev/null >"$LOG" 2>&1 9>&- &
		pid=$!
		echo "$pid" >"$PIDFILE"
		echo "$ADDR" >"$ADDRFILE"
		say "started broker pid $pid (cluster $cid), log $LOG; waiting up to ${START_TIMEOUT}s"
	fi

	deadline=$(($(now_ms) + START_TIMEOUT * 1000))
	until broker_ready "$ADDR"; do
		if ! kill -0 "$pid" 2>/dev/null && p2="$(our_pid)"; then
			pid="$p2" # setsid forked after all: follow the broker itself
			echo "$pid" >"$PIDFILE"
		fi
		if ! kill -0 "$pid" 2>/dev/null; then
			{
				echo "kafka.sh: ERROR: the broker (pid $pid) exited during startup; last lines of $LOG:"
				grep -E 'ERROR|Exception|FATAL' "$LOG" | head -n 10 | sed 's/^/    /' || true
				echo "    ..."
				tail -n 15 "$LOG" | sed 's/^/    /' || true
			} >&2
			rm -f "$PIDFILE" "$ADDRFILE"
			exit 1
		fi
		if (($(now_ms) > deadline)); then
			tail -n 20 "$LOG" | sed 's/^/    /' >&2
			die "broker pid $pid not ready at $ADDR after ${START_TIMEOUT}s (still running; '$0 down' stops it)"
		fi
		sleep 0.2
	done
	say "Apache Kafka $(broker_version) up at $ADDR (pid $pid) in $(elapsed "$t0")"
	echo "$ADDR"
}

cmd_down() {
	local keep="${1:-}"
	mkdir -p "$STATE"
	exec 9>"$STATE/.lock"
	flock -w "$((STOP_TIMEOUT + 60))" 9 || die "another kafka.sh holds $STATE/.lock"
	local pid t0 deadline
	t0=$(now_ms)
	if pid="$(our_pid)"; then
		kill -TERM "$pid" 2>/dev/null || true
		deadline=$(($(now_ms) + STOP_TIMEOUT * 1000))
		while kill -0 "$pid" 2>/dev/null; do
			if (($(now_ms) > deadline)); then
				say "broker pid $pid still running ${STOP_TIMEOUT}s after SIGTERM: SIGKILL"
				kill -KILL "$pid" 2>/dev/null || true
				deadline=$(($(now_ms) + 10000))
				while kill -0 "$pid" 2>/dev/null; do
					(($(now_ms) > deadline)) && die "broker pid $pid survives SIGKILL"
					sleep 0.1
				done
				break
			fi
			sleep 0.1
		done
		say "stopped broker pid $pid in $(elapsed "$t0")"
	else
		say "no broker running from $STATE"
	fi
	[[ "$keep" == keep ]] || rm -rf "$DATA"
	rm -f "$PIDFILE" "$ADDRFILE"
}

cmd_status() {
	local pid
	if pid="$(our_pid)"; then
		local addr
		addr="$(cat "$ADDRFILE" 2>/dev/null || echo "$ADDR")"
		if broker_ready "$addr"; then
			say "up: Apache Kafka $(broker_version) at $addr (pid $pid)"
			echo "$addr"
			return 0
		fi
		say "starting or unhealthy: pid $pid runs but $addr does not answer"
		return 1
	fi
	say "down (state dir $STATE)"
	return 1
}

case "${1:-}" in
up) cmd_up ;;
down) cmd_down ;;
stop) cmd_down keep ;;
start) cmd_up keep ;;
status) cmd_status ;;
-h | --help | help) usage 0 ;;
*) usage ;;
esac
