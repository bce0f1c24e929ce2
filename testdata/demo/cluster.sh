#!/bin/sh
# The three-node failover demo behind `make demo` and `make demo-stop`:
# zonekeeper daemons a, b and c on 127.0.0.1, 127.0.0.2 and 127.0.0.3
# (same port, no root), data under DEMO_DATA/{a,b,c}, sharing a generated
# cluster TSIG key; a is primary for the zones of testdata/demo, b and c
# its secondaries.
#
#   sh testdata/demo/cluster.sh start   # start the nodes not running; configure once
#   sh testdata/demo/cluster.sh stop    # stop every node by its pid file
#
# Environment: BIN (bin/zonekeeper), DEMO_DATA (./demo-data), DEMO_PORT
# (5300), DEMO_HEALTH (5s, the nodes' --health-interval).
set -eu

BIN=${BIN:-bin/zonekeeper}
DATA=${DEMO_DATA:-./demo-data}
PORT=${DEMO_PORT:-5300}
HEALTH=${DEMO_HEALTH:-5s}
KEY=cluster.demo.
ZONES="example.com. 0.0.127.in-addr.arpa."
NODES="a b c"
HERE=$(dirname "$0")

ip_of() {
	case $1 in
	a) echo 127.0.0.1 ;;
	b) echo 127.0.0.2 ;;
	c) echo 127.0.0.3 ;;
	esac
}

# running NODE: its pid file names a live zonekeeper process.
running() {
	pidfile=$DATA/$1.pid
	[ -f "$pidfile" ] || return 1
	pid=$(cat "$pidfile")
	[ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
	grep -q zonekeeper "/proc/$pid/cmdline" 2>/dev/null
}

zk() {
	node=$1
	shift
	"$BIN" --data "$DATA/$node" "$@"
}

start_node() {
	node=$1
	ip=$(ip_of "$node")
	if running "$node"; then
		echo "node $node ($ip:$PORT) already running, pid $(cat "$DATA/$node.pid")"
		return
	fi
	mkdir -p "$DATA/$node/zones"
	# An empty config file: a host's /etc/zonekeeper/zonekeeper.conf stays out.
	# NOTIFYs derived from NS records (ns1, ns2 are 127.0.0.1, 127.0.0.2) go
	# to the demo port.
	nohup "$BIN" serve --config "$DATA/empty.conf" --data "$DATA/$node" \
		--listen "$ip:$PORT" --ns-port "$PORT" --health-interval "$HEALTH" \
		>"$DATA/$node/zonekeeper.log" 2>&1 &
	echo $! >"$DATA/$node.pid"
	i=0
	until zk "$node" status >/dev/null 2>&1; do
		i=$((i + 1))
		if [ $i -gt 100 ] || ! running "$node"; then
			echo "node $node did not start; its log, $DATA/$node/zonekeeper.log:" >&2
			tail -n 20 "$DATA/$node/zonekeeper.log" >&2
			exit 1
		fi
		sleep 0.1
	done
	echo "node $node: zonekeeper serving on $ip:$PORT, pid $(cat "$DATA/$node.pid"), data $DATA/$node"
}

# configure: the cluster key on every node, then peers (a first), or, with
# a zonekeeper without `peer`, per-zone secondaries of a and ALSO-NOTIFY.
configure() {
	secret=$(head -c 32 /dev/urandom | base64)
	for n in $NODES; do
		zk "$n" key add "$KEY" --algorithm hmac-sha256 --secret "$secret" >/dev/null
	done
	if zk a peer list >/dev/null 2>&1; then
		for n in $NODES; do
			for p in $NODES; do
				[ "$n" = "$p" ] || zk "$n" peer add "$p" "$(ip_of "$p"):$PORT" --tsig "$KEY" --role peer >/dev/null
			done
		done
		echo "configured with \`key add\` and \`peer add\` on each node: b and c learn a's zones from it"
	else
		for z in $ZONES; do
			zk a meta set "$z" TSIG-ALLOW-AXFR "$KEY" >/dev/null
			zk a meta set "$z" ALSO-NOTIFY "127.0.0.3:$PORT" >/dev/null
			for n in b c; do
				zk "$n" zone add-secondary "$z" "127.0.0.1:$PORT" --tsig "$KEY" >/dev/null
			done
		done
		echo "configured per zone (this zonekeeper has no \`peer\` verb): b and c are secondaries of a, signed with $KEY"
	fi
	echo "$KEY" >"$DATA/configured"
}

start() {
	if [ ! -x "$BIN" ]; then
		echo "$BIN not found: run \`make build\` first" >&2
		exit 1
	fi
	mkdir -p "$DATA/a/zones"
	echo "# empty: the demo passes flags" >"$DATA/empty.conf"
	if [ ! -f "$DATA/configured" ]; then
		for f in "$HERE"/*.zone; do
			[ -e "$DATA/a/zones/$(basename "$f")" ] || cp "$f" "$DATA/a/zones/"
		done
	fi
	for n in $NODES; do
		start_node "$n"
	done
	[ -f "$DATA/configured" ] || configure
	# Wait (up to 10 s) for b and c to serve the zones.
	i=0
	for n in b c; do
		for z in $ZONES; do
			until zk "$n" zone show "$z" --json 2>/dev/null | grep -q '"serial": *[1-9]'; do
				i=$((i + 1))
				[ $i -le 100 ] || break
				sleep 0.1
			done
		done
	done
	for n in $NODES; do
		echo
		echo "node $n ($(ip_of "$n"):$PORT):"
		zk "$n" zone list || true
	done
	cat <<EOF

Try it:
  dig @127.0.0.2 -p $PORT www.example.com         # b answers from its copy
  $BIN --data $DATA/a record add example.com. demo A 127.0.0.99
  dig @127.0.0.3 -p $PORT demo.example.com        # c has it within a second

Open the TUI of a node (or: $BIN tui --control $DATA/b/control.sock):
  $BIN tui --data $DATA/a
  $BIN tui --data $DATA/b
  $BIN tui --data $DATA/c

Fail over:
  kill -9 \$(cat $DATA/a.pid)                              # the primary dies
  $BIN --data $DATA/b zone promote example.com.     # b becomes primary
  $BIN --data $DATA/b zone promote --all --from 127.0.0.1:$PORT   # or every zone it had from a
  $BIN --data $DATA/b record add example.com. after A 127.0.0.98   # c follows b
  make demo                                               # a comes back on its old state
  $BIN --data $DATA/a events --kind split-brain    # a reports split-brain, pushes nothing
  $BIN --data $DATA/b events --kind split-brain    # so does b, naming a
  $BIN --data $DATA/c zone list                    # c's PRIMARIES name b
  $BIN --data $DATA/a zone demote example.com. --primary b   # a follows b; old file in $DATA/a/backup/

Stop: make demo-stop (logs: $DATA/{a,b,c}/zonekeeper.log; rm -rf $DATA to start afresh)
EOF
}

stop() {
	for n in $NODES; do
		if running "$n"; then
			pid=$(cat "$DATA/$n.pid")
			kill "$pid"
			i=0
			while kill -0 "$pid" 2>/dev/null; do
				i=$((i + 1))
				if [ $i -gt 100 ]; then
					kill -9 "$pid" 2>/dev/null || true
					break
				fi
				sleep 0.1
			done
			echo "node $n stopped (pid $pid)"
		fi
		rm -f "$DATA/$n.pid"
	done
}

case ${1:-} in
start) start ;;
stop) stop ;;
*)
	echo "usage: $0 start|stop" >&2
	exit 2
	;;
esac
