#!/usr/bin/env bash
# package-test: checks the zonekeeper packages that `make package` built,
# for real, on this machine: lints them, installs the .deb here, runs the
# installed server as its user, upgrades, removes and purges it, and checks
# the .rpm in a scratch root with its scriptlets run against stubs.
# `make package-test` runs it as root, after `make package`.
#
# Safe on a CI machine: systemd need not be PID 1, and dpkg runs in a
# private mount namespace where /run/systemd is empty (or holds a fake
# system/ with a stub systemctl), so no real service is ever started; DNS
# traffic stays on 127.0.0.207-211. It refuses to run when zonekeeper is
# installed other than by an interrupted run of itself, and cleans up
# whatever it made: the package, its test users, the user zonekeeper when
# it created it, temporary files and processes.
#
# Every process it starts ends within 5 minutes even if it is killed.
#
# Environment: VERSION (as given to make package), DIST (dist), NFPM and
# GO (to build the second, upgrade version).
set -euo pipefail
cd "$(dirname "$0")/../.."
repo=$PWD

: "${VERSION:?VERSION must be set, as for make package}"
DIST=${DIST:-dist}
case $DIST in /*) ;; *) DIST=$repo/$DIST ;; esac
NFPM=${NFPM:-nfpm}
GO=${GO:-go}
PKG_VERSION=$(sh packaging/version.sh "$VERSION")
ARCH=$(dpkg --print-architecture)
case $ARCH in
amd64) RPMARCH=x86_64 ;;
arm64) RPMARCH=aarch64 ;;
*) RPMARCH=$ARCH ;;
esac
DEB=$DIST/zonekeeper_${PKG_VERSION}_$ARCH.deb
RPM=$DIST/zonekeeper-$PKG_VERSION-1.$RPMARCH.rpm
V2=$PKG_VERSION+pt2 # the upgrade: same sources, a higher version

ADDR=127.0.0.207 # the installed server listens here
PORT=15353
NSPORT=15399  # nothing listens there: NOTIFYs end on loopback
ZONE=pt.zonekeeper.test
ZONE2=pt2.zonekeeper.test
MEMBER=zkpt-member     # in group zonekeeper
OUTSIDER=zkpt-outsider # not
ADMIN=zkpt-admin       # in groups zonekeeper and zonekeeper-admin
MARKER=/var/tmp/zonekeeper-package-test.state

passed=0 failed=0 skipped=0
section() { echo "$* [${SECONDS}s]"; }
ok() {
	passed=$((passed + 1))
	echo "ok   - $*"
}
bad() {
	failed=$((failed + 1))
	echo "FAIL - $*"
}
skip() {
	skipped=$((skipped + 1))
	echo "skip - $*"
}
# check NAME CMD...: CMD must succeed; its output is shown when it fails.
check() {
	local name=$1 out
	shift
	if out=$("$@" 2>&1); then
		ok "$name"
	else
		bad "$name"
		printf '%s\n' "$out" | sed 's/^/       /' | head -40
	fi
}
die() {
	bad "$*"
	exit 1
}
# eq WHAT GOT WANT
eq() {
	if [ "$2" = "$3" ]; then
		ok "$1"
	else
		bad "$1: got '$2', want '$3'"
	fi
}
status_of() { dpkg-query -W -f '${db:Status-Status}' zonekeeper 2>/dev/null || echo not-installed; }
mode_of() { stat -c '%U:%G %a' "$1" 2>/dev/null || echo missing; }
# as USER CMD...: run CMD as USER with USER's groups, from /, clean environment.
as() {
	local u=$1
	shift
	(cd / && setpriv --reuid="$(id -u "$u")" --regid="$(id -g "$u")" --init-groups -- env -i PATH=/usr/bin:/bin HOME=/nonexistent "$@")
}

[ "$(id -u)" = 0 ] || {
	echo "package-test: run as root (it installs the package): sudo make package-test" >&2
	exit 1
}
for t in dpkg-deb lintian rpm socat strace dig systemd-analyze setpriv unshare ss pgrep; do
	command -v "$t" >/dev/null || die "needs $t: make deps installs the first six; util-linux, iproute2 and procps the others"
done
for f in "$DEB" "$RPM"; do
	[ -f "$f" ] || die "missing $f: run make package"
done

tmp=$(mktemp -d /tmp/zkpt.XXXXXX)
chmod 0755 "$tmp"
daemon_pids=()
listener_pids=()
created_run_systemd=
# remember PID: for the cleanup of a run killed before it could clean up.
remember() { [ ! -f "$MARKER" ] || echo "pid=$1" >>"$MARKER"; }
cleanup() {
	set +e
	for p in "${daemon_pids[@]}" "${listener_pids[@]}"; do
		kill "$p" 2>/dev/null && wait "$p" 2>/dev/null
	done
	purge_ours
	[ -z "$created_run_systemd" ] || rmdir /run/systemd 2>/dev/null
	rm -rf "$tmp"
}
# purge_ours removes what this test (or an interrupted run of it) installed.
purge_ours() {
	local old p
	if [ -f "$MARKER" ]; then
		# Processes of a run killed outright: a server still running as
		# zonekeeper would hold the port and keep userdel from working.
		for p in $(sed -n 's/^pid=\([0-9]*\)$/\1/p' "$MARKER"); do
			grep -qaE 'zonekeeper|socat|strace' "/proc/$p/cmdline" 2>/dev/null && kill "$p" 2>/dev/null || true
		done
		for _ in $(seq 50); do
			pgrep -u zonekeeper >/dev/null 2>&1 || break
			sleep 0.1
		done
	fi
	for u in "$MEMBER" "$OUTSIDER" "$ADMIN"; do
		! getent passwd "$u" >/dev/null || userdel "$u" 2>/dev/null || true
	done
	if [ -f "$MARKER" ]; then
		if [ "$(status_of)" != not-installed ]; then
			dpkg_ns none --purge zonekeeper >/dev/null 2>&1 || true
		fi
		if grep -q '^created_user=1$' "$MARKER"; then
			userdel zonekeeper 2>/dev/null || true
			! getent group zonekeeper >/dev/null || groupdel zonekeeper 2>/dev/null || true
			! getent group zonekeeper-admin >/dev/null || groupdel zonekeeper-admin 2>/dev/null || true
		fi
		old=$(sed -n 's#^tmp=\(/tmp/zkpt\.[A-Za-z0-9]*\)$#\1#p' "$MARKER")
		[ -z "$old" ] || [ "$old" = "$tmp" ] || rm -rf "$old"
		rm -f "$MARKER"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# dpkg_ns MODE ARGS...: dpkg in a private mount namespace where the
# machine's systemd (if any) is hidden. MODE none: no systemd, as in a
# container. MODE systemd: /run/systemd/system exists, systemctl is a stub
# that logs to $tmp/systemctl.log and fails start/stop/restart, and
# policy-rc.d allows everything, so the scripts' service actions run.
dpkg_ns() {
	local mode=$1
	shift
	if [ "${have_ns:-no}" = no ]; then
		DEBIAN_FRONTEND=noninteractive dpkg "$@"
		return
	fi
	unshare --mount --propagation private -- env MODE="$mode" STUBS="$tmp/stubs" \
		DEBIAN_FRONTEND=noninteractive sh -c '
		set -e
		mkdir -p /run/systemd
		mount -t tmpfs -o mode=0755 zkpt /run/systemd
		if [ "$MODE" = systemd ]; then
			mkdir /run/systemd/system
			[ ! -e /usr/sbin/policy-rc.d ] || mount --bind "$STUBS/policy-rc.d" /usr/sbin/policy-rc.d
			PATH=$STUBS:$PATH
		fi
		exec dpkg "$@"' dpkg "$@"
}

section "# zonekeeper package-test: $PKG_VERSION on $ARCH, in $tmp"

# ---------------------------------------------------------------- setup
if [ "$(status_of)" != not-installed ]; then
	if [ -f "$MARKER" ]; then
		section "# purging the zonekeeper an interrupted package-test left"
	else
		trap - EXIT
		rm -rf "$tmp"
		echo "package-test: zonekeeper is installed here ($(status_of)) and not by package-test;" \
			"it would be purged with its zones: remove it first (dpkg -P zonekeeper)" >&2
		exit 1
	fi
elif [ ! -f "$MARKER" ] && { [ -e /var/lib/zonekeeper ] || [ -e /etc/zonekeeper ]; }; then
	trap - EXIT
	rm -rf "$tmp"
	echo "package-test: /var/lib/zonekeeper or /etc/zonekeeper exists here, and purging the" \
		"package would delete it: move it away first" >&2
	exit 1
fi
if [ ! -d /run/systemd ]; then
	mkdir /run/systemd && created_run_systemd=1
fi
if unshare --mount --propagation private -- mount -t tmpfs zkpt /run/systemd 2>/dev/null; then
	have_ns=yes
else
	have_ns=no
	[ ! -d /run/systemd/system ] ||
		die "no mount namespace here and systemd runs: dpkg -i would start the real service"
fi
purge_ours
mkdir -p "$tmp/stubs"
cat >"$tmp/stubs/systemctl" <<EOF
#!/bin/sh
echo "systemctl \$*" >>"$tmp/systemctl.log"
case " \$* " in
*" is-enabled "*) echo enabled ;;
*" is-active "*) exit 0 ;;
*" start "* | *" stop "* | *" restart "*) echo "stub: refusing \$*" >&2; exit 1 ;;
esac
exit 0
EOF
printf '#!/bin/sh\nexit 0\n' >"$tmp/stubs/policy-rc.d"
chmod 0755 "$tmp/stubs/systemctl" "$tmp/stubs/policy-rc.d"

# ---------------------------------------------------------------- build output
section "# what make package built"
for f in "$DIST/zonekeeper_${PKG_VERSION}_amd64.deb" "$DIST/zonekeeper_${PKG_VERSION}_arm64.deb" \
	"$DIST/zonekeeper-$PKG_VERSION-1.x86_64.rpm" "$DIST/zonekeeper-$PKG_VERSION-1.aarch64.rpm"; do
	check "built $f" test -s "$f"
done
for a in amd64:x86_64:3e arm64:aarch64:b7; do
	IFS=: read -r da ra machine <<<"$a"
	d=$DIST/zonekeeper_${PKG_VERSION}_$da.deb
	r=$DIST/zonekeeper-$PKG_VERSION-1.$ra.rpm
	[ -f "$d" ] && [ -f "$r" ] || continue
	eq "$da deb: Version, Architecture" "$(dpkg-deb -f "$d" Version Architecture | tr '\n' ' ')" \
		"Version: $PKG_VERSION Architecture: $da "
	eq "$ra rpm: version, arch" "$(rpm -qp --qf '%{VERSION}-%{RELEASE} %{ARCH}' "$r" 2>/dev/null)" "$PKG_VERSION-1 $ra"
	mkdir -p "$tmp/x-$da"
	dpkg-deb -x "$d" "$tmp/x-$da"
	# ELF e_machine (offset 18): 0x3e x86-64, 0xb7 aarch64.
	eq "$da binary is for $ra" "$(od -An -tx1 -j18 -N1 "$tmp/x-$da/usr/bin/zonekeeper" | tr -d ' ')" "$machine"
done
binfo=$("$GO" version -m "$tmp/x-$ARCH/usr/bin/zonekeeper")
check "binary built with CGO_ENABLED=0" grep -q 'CGO_ENABLED=0' <<<"$binfo"
if command -v readelf >/dev/null; then
	check "binary is static (no ELF interpreter)" bash -c "! LC_ALL=C readelf -l '$tmp/x-$ARCH/usr/bin/zonekeeper' | grep -i interpreter"
else
	skip "binary is static: no readelf here"
fi
mods=$(awk '$1 == "dep" { print $2 }' <<<"$binfo")
stanzas=$(sed -nE 's#^(Files:)? +vendor/(.*)/\*$#\2#p' packaging/copyright)
missing=""
for mod in $mods std; do
	grep -qxF "$mod" <<<"$stanzas" || missing="$missing $mod"
done
eq "copyright: a stanza for every compiled-in Go module" "${missing# }" ""
extra=""
for path in $stanzas; do
	found=
	for mod in $mods std; do
		case $path in "$mod" | "$mod"/*) found=1 ;; esac
	done
	[ -n "$found" ] || extra="$extra $path"
done
eq "copyright: no stanza for a module not compiled in" "${extra# }" ""

# ---------------------------------------------------------------- lintian
section "# lintian"
for d in "$DIST/zonekeeper_${PKG_VERSION}_amd64.deb" "$DIST/zonekeeper_${PKG_VERSION}_arm64.deb"; do
	out=$(lintian --display-info --show-overrides "$d" 2>&1 | grep -v 'running with root privileges' || true)
	printf '%s\n' "$out" | sed -n 's/^/       /p' | grep -v '^       N:' || true
	if grep -qE '^[EW]: ' <<<"$out"; then
		bad "lintian $(basename "$d"): errors or warnings"
	else
		ok "lintian $(basename "$d"): no errors, no warnings"
	fi
	if grep -qE 'unused-override|mismatched-override' <<<"$out"; then
		bad "lintian $(basename "$d"): an override matches nothing"
	fi
done
# Every override is explained by a comment right above it.
unexplained=$(awk '/^#/ { c = 1; next } /^[^[:space:]]/ { if (!c) print; c = 0 }' packaging/lintian/zonekeeper)
eq "every lintian override has a comment" "$unexplained" ""

# ---------------------------------------------------------------- deb contents
section "# deb contents"
listing=$(dpkg-deb -c "$DEB" | awk '{ print $1, $2, $6 }')
for want in \
	"-rwxr-xr-x root/root ./usr/bin/zonekeeper" \
	"-rw-r--r-- root/root ./etc/zonekeeper/zonekeeper.conf" \
	"-rw-r--r-- root/root ./usr/lib/systemd/system/zonekeeper.service" \
	"-rw-r--r-- root/root ./usr/lib/tmpfiles.d/zonekeeper.conf" \
	"-rw-r--r-- root/root ./usr/share/man/man8/zonekeeper.8.gz" \
	"-rw-r--r-- root/root ./usr/share/bash-completion/completions/zonekeeper" \
	"-rw-r--r-- root/root ./usr/share/doc/zonekeeper/copyright" \
	"-rw-r--r-- root/root ./usr/share/doc/zonekeeper/changelog.gz" \
	"-rw-r--r-- root/root ./usr/share/lintian/overrides/zonekeeper" \
	"drwxr-xr-x root/root ./var/lib/zonekeeper/zones/" \
	"drwxr-xr-x root/root ./var/lib/zonekeeper/secondary/" \
	"drwxr-xr-x root/root ./var/lib/zonekeeper/backup/"; do
	check "deb has $want" grep -qxF -- "$want" <<<"$listing"
done
eq "deb conffiles" "$(dpkg-deb --ctrl-tarfile "$DEB" | tar -xOf - ./conffiles)" "/etc/zonekeeper/zonekeeper.conf"
eq "deb Depends" "$(dpkg-deb -f "$DEB" Depends)" "adduser"
mkdir -p "$tmp/ctl"
dpkg-deb -e "$DEB" "$tmp/ctl"
for s in postinst prerm postrm; do
	check "deb $s: sh -n" sh -n "$tmp/ctl/$s"
done

# ---------------------------------------------------------------- unit, config, man page, completion
section "# unit, config, man page, completion"
unit=packaging/systemd/zonekeeper.service
for d in Type=notify User=zonekeeper Group=zonekeeper \
	AmbientCapabilities=CAP_NET_BIND_SERVICE CapabilityBoundingSet=CAP_NET_BIND_SERVICE \
	StateDirectory=zonekeeper RuntimeDirectory=zonekeeper RuntimeDirectoryMode=0750 \
	'ExecReload=/bin/kill -HUP $MAINPID' UMask=0077 NoNewPrivileges=yes ProtectSystem=strict \
	ProtectHome=yes PrivateTmp=yes PrivateDevices=yes ProtectKernelTunables=yes \
	ProtectKernelModules=yes ProtectKernelLogs=yes ProtectControlGroups=yes ProtectClock=yes \
	ProtectHostname=yes ProtectProc=invisible ProcSubset=pid \
	'RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6' RestrictNamespaces=yes RestrictRealtime=yes \
	RestrictSUIDSGID=yes LockPersonality=yes MemoryDenyWriteExecute=yes \
	SystemCallFilter=@system-service 'SystemCallFilter=~@privileged @resources' \
	SystemCallArchitectures=native; do
	check "unit: $d" grep -qxF -- "$d" "$unit"
done
check "unit: no PrivateUsers" bash -c "! grep -q '^PrivateUsers' $unit"
score=$(systemd-analyze security --offline=true "$unit" 2>&1 | sed -n 's/.*Overall exposure level for zonekeeper.service: \([0-9.]*\).*/\1/p')
if [ -n "$score" ] && awk -v s="$score" 'BEGIN { exit !(s <= 2.0) }'; then
	ok "systemd-analyze security --offline=true: $score (at most 2.0)"
else
	bad "systemd-analyze security --offline=true: '$score' (want at most 2.0)"
fi
check "tmpfiles.d entry for /run/zonekeeper" grep -qx 'd /run/zonekeeper 0750 zonekeeper zonekeeper -' packaging/tmpfiles.d/zonekeeper.conf

conf=packaging/etc/zonekeeper.conf
eq "config: the only active settings" "$(grep -Ev '^[[:space:]]*(#|$)' "$conf")" \
	"$(printf 'listen = 0.0.0.0:53,[::]:53\ndata = /var/lib/zonekeeper\ncontrol = /run/zonekeeper/control.sock\ncontrol-admin-group = zonekeeper-admin')"
zk=$tmp/x-$ARCH/usr/bin/zonekeeper
keys=$("$zk" serve --help 2>&1 | sed -n 's/^  --\([a-z-]*\) .*/\1/p' | grep -vx config)
missing=""
for k in $keys; do
	grep -Eq "^#?$k = ?" "$conf" || missing="$missing $k"
done
eq "config: every serve setting present, with its default" "${missing# }" ""
# Uncommented, every default is accepted (checked by starting with it below).
sed -E 's/^#([a-z-]+ =)/\1/' "$conf" >"$tmp/all.conf"

helpcmds=$("$zk" help | sed -n 's/^  \([a-z-]*\)  .*/\1/p' | sort | tr '\n' ' ')
mancmds=$(sed -n '/^\.SH COMMANDS/,/^\.SH /{/^\.TP/{n;s/^\.BI\{0,1\} "\{0,1\}\([a-z-]*\).*/\1/p}}' packaging/zonekeeper.8 | grep -vx help | sort -u | tr '\n' ' ')
eq "man page: COMMANDS lists exactly the commands of zonekeeper help" "$mancmds" "$helpcmds"
check "man page: no groff warnings" bash -c "LC_ALL=C.UTF-8 MANROFFSEQ='' MANWIDTH=80 man --warnings -E UTF-8 -l -Tutf8 -Z packaging/zonekeeper.8 2>&1 >/dev/null | grep . && exit 1 || true"
compcmds=$(sed -n 's/^[[:space:]]*local commands="\(.*\)"/\1/p' packaging/completion/zonekeeper.bash | tr ' ' '\n' | grep -vx help | sort | tr '\n' ' ')
eq "completion: knows exactly the commands of zonekeeper help" "$compcmds" "$helpcmds"
check "completion: bash -n" bash -n packaging/completion/zonekeeper.bash
# complete WORDS...: what the completion offers for the last word.
complete_words() {
	bash -c '
		_init_completion() { cur=${COMP_WORDS[COMP_CWORD]}; prev=${COMP_WORDS[COMP_CWORD-1]}; words=("${COMP_WORDS[@]}"); cword=$COMP_CWORD; }
		_filedir() { COMPREPLY=(FILES); }
		complete() { :; }
		PATH=$1:$PATH
		shift
		. "$0"
		COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))
		_zonekeeper
		echo "${COMPREPLY[*]}"' packaging/completion/zonekeeper.bash "$(dirname "$zk")" "$@"
}
eq "completion: zonekeeper zo" "$(complete_words zonekeeper zo)" "zone"
eq "completion: zonekeeper zone <tab>" "$(complete_words zonekeeper zone '')" "list show health add-secondary set remove retrieve notify notify-host promote demote set-serial"
eq "completion: zonekeeper serve --log" "$(complete_words zonekeeper serve --log)" "--log-level"
eq "completion: zonekeeper check <tab>" "$(complete_words zonekeeper check '')" "FILES"

# ---------------------------------------------------------------- rpm
section "# rpm"
files=$(rpm -qpl "$RPM" 2>/dev/null)
eq "rpm -qpl: the files" "$(tr '\n' ' ' <<<"$files")" \
	"/etc/zonekeeper /etc/zonekeeper/zonekeeper.conf /usr/bin/zonekeeper /usr/lib/systemd/system/zonekeeper.service /usr/lib/tmpfiles.d/zonekeeper.conf /usr/share/bash-completion/completions/zonekeeper /usr/share/doc/zonekeeper/changelog.gz /usr/share/doc/zonekeeper/copyright /usr/share/man/man8/zonekeeper.8.gz /var/lib/zonekeeper /var/lib/zonekeeper/backup /var/lib/zonekeeper/secondary /var/lib/zonekeeper/zones "
eq "rpm -qpc: the config file" "$(rpm -qpc "$RPM" 2>/dev/null)" "/etc/zonekeeper/zonekeeper.conf"
flags=$(rpm -qp --qf '[%{FILENAMES} %{FILEFLAGS:fflags}\n]' "$RPM" 2>/dev/null)
eq "rpm: config is %config(noreplace)" "$(grep '^/etc/zonekeeper/zonekeeper.conf ' <<<"$flags")" "/etc/zonekeeper/zonekeeper.conf cn"
owners=$(rpm -qp --qf '[%{FILENAMES} %{FILEMODES:perms} %{FILEUSERNAME}:%{FILEGROUPNAME}\n]' "$RPM" 2>/dev/null)
for d in /var/lib/zonekeeper /var/lib/zonekeeper/zones /var/lib/zonekeeper/secondary /var/lib/zonekeeper/backup; do
	eq "rpm: $d" "$(grep "^$d " <<<"$owners")" "$d drwxr-x--- zonekeeper:zonekeeper"
done
eq "rpm Requires" "$(rpm -qpR "$RPM" 2>/dev/null | grep -v '^rpmlib(' | tr '\n' ' ')" "shadow-utils "

root=$tmp/rpmroot
rpmq() { rpm --root "$root" --dbpath /var/lib/rpm "$@"; }
mkdir -p "$root"
check "rpm --root: install --nodeps --noscripts" rpmq -i --nodeps --noscripts --ignorearch "$RPM"
for f in /usr/bin/zonekeeper /etc/zonekeeper/zonekeeper.conf /usr/lib/systemd/system/zonekeeper.service \
	/usr/lib/tmpfiles.d/zonekeeper.conf /usr/share/man/man8/zonekeeper.8.gz \
	/usr/share/bash-completion/completions/zonekeeper /usr/share/doc/zonekeeper/copyright; do
	check "rpm root has $f" test -s "$root$f"
done
eq "rpm root: /var/lib/zonekeeper/zones mode" "$(stat -c %a "$root/var/lib/zonekeeper/zones")" "750"
eq "rpm root: the binary runs" "$("$root/usr/bin/zonekeeper" version)" "zonekeeper $VERSION"

# Scriptlets, as rpm stores them: sh -n, then run with stubs for each $1.
for s in PREIN POSTIN PREUN POSTUN; do
	rpm -qp --qf "%{$s}\n" "$RPM" >"$tmp/$s.sh" 2>/dev/null
	eq "rpm $s interpreter" "$(rpm -qp --qf "%{${s}PROG}" "$RPM" 2>/dev/null)" "/bin/sh"
	check "rpm $s: sh -n" sh -n "$tmp/$s.sh"
done
st=$tmp/rpmstubs
mkdir -p "$st/state"
for c in useradd groupadd systemctl systemd-tmpfiles; do
	printf '#!/bin/sh\necho "%s $*" >>"%s/log"\n' "$c" "$st" >"$st/$c"
done
cat >>"$st/useradd" <<EOF
for last; do :; done
touch "$st/state/passwd-\$last"
EOF
cat >>"$st/groupadd" <<EOF
for last; do :; done
touch "$st/state/group-\$last"
EOF
printf '#!/bin/sh\n[ -e "%s/state/$1-$2" ]\n' "$st" >"$st/getent"
chmod 0755 "$st"/*
# scriptlet SCRIPT ARG: run it as rpm does; prints the stub calls.
scriptlet() {
	: >"$st/log"
	if ! PATH=$st:/usr/bin:/bin sh "$tmp/$1.sh" "$2" >/dev/null 2>&1; then
		echo "exit-status-not-0"
	fi
	cat "$st/log"
}
rm -f "$st/state"/*
eq "rpm install: %pre 1" "$(scriptlet PREIN 1)" "$(printf 'groupadd -r zonekeeper\ngroupadd -r zonekeeper-admin\nuseradd -r -g zonekeeper -d /var/lib/zonekeeper -M -s /sbin/nologin -c zonekeeper DNS server zonekeeper')"
eq "rpm install: %post 1" "$(scriptlet POSTIN 1)" "$(printf 'systemd-tmpfiles --create zonekeeper.conf\nsystemctl --no-reload preset zonekeeper.service')"
eq "rpm upgrade: %pre 2 (user exists)" "$(scriptlet PREIN 2)" ""
eq "rpm upgrade: %post 2" "$(scriptlet POSTIN 2)" "systemd-tmpfiles --create zonekeeper.conf"
eq "rpm upgrade: %preun 1" "$(scriptlet PREUN 1)" ""
eq "rpm upgrade: %postun 1 restarts" "$(scriptlet POSTUN 1)" "$(printf 'systemctl daemon-reload\nsystemctl try-restart zonekeeper.service')"
eq "rpm erase: %preun 0 stops, disables" "$(scriptlet PREUN 0)" "systemctl --no-reload disable --now zonekeeper.service"
eq "rpm erase: %postun 0" "$(scriptlet POSTUN 0)" "systemctl daemon-reload"
# Where systemctl fails (no systemd), every scriptlet still succeeds.
printf '#!/bin/sh\necho "systemctl $*" >>"%s/log"\nexit 1\n' "$st" >"$st/systemctl"
printf '#!/bin/sh\nexit 1\n' >"$st/systemd-tmpfiles"
fails=""
for run in "PREIN 1" "POSTIN 1" "POSTIN 2" "PREUN 1" "POSTUN 1" "PREUN 0" "POSTUN 0"; do
	scriptlet $run | grep -q exit-status-not-0 && fails="$fails [$run]"
done
eq "rpm scriptlets succeed when systemctl fails" "${fails# }" ""

# ---------------------------------------------------------------- dpkg -i
section "# dpkg -i (systemd not running)"
had_user=0
getent passwd zonekeeper >/dev/null && had_user=1
printf 'created_user=%s\ntmp=%s\n' "$((1 - had_user))" "$tmp" >"$MARKER"
if ! out=$(dpkg_ns none -i "$DEB" 2>&1); then
	printf '%s\n' "$out" | sed 's/^/       /'
	die "dpkg -i $DEB"
fi
ok "dpkg -i $(basename "$DEB")"
eq "dpkg status" "$(dpkg-query -W -f '${db:Status-Abbrev}${Version}' zonekeeper)" "ii $PKG_VERSION"
pw=$(getent passwd zonekeeper || true)
IFS=: read -r _ _ zuid zgid _ zhome zshell <<<"$pw"
check "user zonekeeper exists" test -n "$pw"
check "user zonekeeper is a system user (uid < 1000)" test "${zuid:-1000}" -lt 1000
eq "user zonekeeper: primary group" "$(getent group "${zgid:-x}" | cut -d: -f1)" "zonekeeper"
eq "user zonekeeper: home, shell" "$zhome $zshell" "/var/lib/zonekeeper /usr/sbin/nologin"
for d in /var/lib/zonekeeper /var/lib/zonekeeper/zones /var/lib/zonekeeper/secondary /var/lib/zonekeeper/backup /run/zonekeeper; do
	eq "$d owner and mode" "$(mode_of $d)" "zonekeeper:zonekeeper 750"
done
eq "/etc/zonekeeper/zonekeeper.conf owner and mode" "$(mode_of /etc/zonekeeper/zonekeeper.conf)" "root:root 644"
check "config registered as a conffile" grep -q '/etc/zonekeeper/zonekeeper.conf [0-9a-f]' <<<"$(dpkg-query -W -f '${Conffiles}' zonekeeper)"
wants=/etc/systemd/system/multi-user.target.wants/zonekeeper.service
# deb-systemd-helper links to /lib/systemd/system, the same file on a merged /usr.
eq "unit enabled: $wants" "$(readlink -e $wants || echo missing)" "/usr/lib/systemd/system/zonekeeper.service"
check "deb-systemd-helper: was-enabled" env DPKG_MAINTSCRIPT_PACKAGE=zonekeeper deb-systemd-helper --quiet was-enabled zonekeeper.service
check "deb-systemd-helper state file" test -f /var/lib/systemd/deb-systemd-helper-enabled/zonekeeper.service.dsh-also
eq "systemctl --root=/ is-enabled" "$(systemctl --root=/ is-enabled zonekeeper.service 2>&1)" "enabled"
if man -w zonekeeper >/dev/null 2>&1; then
	check "systemd-analyze verify (with its man page)" systemd-analyze verify /usr/lib/systemd/system/zonekeeper.service
else
	check "systemd-analyze verify" systemd-analyze verify --man=no /usr/lib/systemd/system/zonekeeper.service
fi
eq "installed binary: version" "$(zonekeeper version)" "zonekeeper $VERSION"

# ---------------------------------------------------------------- the installed server
section "# the installed server, as user zonekeeper, with the installed config"
cat >/var/lib/zonekeeper/zones/$ZONE.zone <<EOF
\$ORIGIN $ZONE.
\$TTL 300
@    IN SOA ns1 hostmaster 2026112101 3600 600 86400 300
@    IN NS  ns1
@    IN NS  ns2
ns1  IN A   127.0.0.208
ns2  IN A   127.0.0.209
www  IN A   127.0.0.210
EOF
check "zonekeeper check on the dropped zone" zonekeeper check /var/lib/zonekeeper/zones/$ZONE.zone
useradd --system --no-create-home --shell /usr/sbin/nologin --groups zonekeeper "$MEMBER"
useradd --system --no-create-home --shell /usr/sbin/nologin "$OUTSIDER"
useradd --system --no-create-home --shell /usr/sbin/nologin --groups zonekeeper,zonekeeper-admin "$ADMIN"

# The unit's identity and capabilities: user and group zonekeeper, only
# CAP_NET_BIND_SERVICE (bounding and ambient), no new privileges, umask
# 0077, working directory /var/lib/zonekeeper. Port 53 too, when free here.
listen=(--listen "$ADDR:$PORT")
if ss -Hlntu 2>/dev/null | awk '{ print $5 }' | grep -Eq "^(0\.0\.0\.0|\*|\[::\]|$ADDR)(%[a-z0-9]+)?:53$"; then
	skip "binding port 53 as user zonekeeper: something listens on port 53 here"
	port53=
else
	listen+=(--listen "$ADDR:53")
	port53=1
fi
notify=zkpt-notify-$$
timeout 300 socat -u "ABSTRACT-RECV:$notify" "OPEN:$tmp/notify.log,creat,append" &
listener_pids+=($!)
remember $!
for _ in $(seq 50); do
	ss -Hxa 2>/dev/null | grep -q "@$notify" && break
	sleep 0.1
done
(
	umask 0077
	cd /var/lib/zonekeeper
	exec env -i PATH=/usr/bin:/bin NOTIFY_SOCKET="@$notify" \
		timeout 300 strace -f -qq -o "$tmp/strace.log" \
		setpriv --reuid=zonekeeper --regid=zonekeeper --init-groups --no-new-privs \
		--inh-caps=-all,+net_bind_service --ambient-caps=-all,+net_bind_service \
		--bounding-set=-all,+net_bind_service \
		-- /usr/bin/zonekeeper serve --config /etc/zonekeeper/zonekeeper.conf "${listen[@]}" --ns-port $NSPORT
) >"$tmp/daemon.log" 2>&1 &
tracer=$!
daemon_pids+=($tracer)
remember $tracer
ready=
for _ in $(seq 200); do
	grep -q 'READY=1' "$tmp/notify.log" 2>/dev/null && ready=1 && break
	kill -0 "$tracer" 2>/dev/null || break
	sleep 0.1
done
# Right at READY=1, with no retry: the zone must already answer.
answer=$(dig @$ADDR -p $PORT +norec +time=2 +tries=1 www.$ZONE A 2>&1 || true)
if [ -z "$ready" ]; then
	sed 's/^/       /' "$tmp/daemon.log" | tail -20
	die "the server never sent READY=1 to \$NOTIFY_SOCKET"
fi
ok "sd_notify READY=1 over an abstract \$NOTIFY_SOCKET"
# timeout runs strace, which runs setpriv, which became zonekeeper.
zkpid=$(pgrep -P "$(pgrep -P "$tracer" -x strace || echo 0)" -x zonekeeper || true)
[ -n "$zkpid" ] || die "cannot find the server's process"
daemon_pids=("$zkpid" "${daemon_pids[@]}")
remember "$zkpid"
check "answers www.$ZONE A as soon as READY=1" grep -q "^www.$ZONE.[[:space:]].*A[[:space:]]127.0.0.210$" <<<"$answer"
check "answer is authoritative (aa)" grep -q 'flags: qr aa' <<<"$answer"
check "answers over TCP" grep -q ' 2026112101 ' <<<"$(dig @$ADDR -p $PORT +tcp +norec +time=2 +tries=1 $ZONE SOA +short)"
if [ -n "$port53" ]; then
	check "answers on port 53 (CAP_NET_BIND_SERVICE, not root)" grep -q '127.0.0.210' <<<"$(dig @$ADDR -p 53 +norec +time=2 +tries=1 www.$ZONE A +short)"
fi
procstatus=$(cat "/proc/$zkpid/status")
eq "server runs as uid zonekeeper" "$(awk '/^Uid:/ { print $2 }' <<<"$procstatus")" "$zuid"
eq "server runs as gid zonekeeper" "$(awk '/^Gid:/ { print $2 }' <<<"$procstatus")" "$zgid"
eq "server capabilities: CAP_NET_BIND_SERVICE only" "$(awk '/^Cap(Eff|Bnd|Amb):/ { print $2 }' <<<"$procstatus" | tr '\n' ' ')" "0000000000000400 0000000000000400 0000000000000400 "
eq "server runs with no_new_privs" "$(awk '/^NoNewPrivs:/ { print $2 }' <<<"$procstatus")" "1"
eq "control socket: mode, owner" "$(stat -c '%A %U:%G' /run/zonekeeper/control.sock 2>&1)" "srw-rw---- zonekeeper:zonekeeper"

st_out=$(as "$MEMBER" zonekeeper status 2>&1) && rc=0 || rc=$?
eq "zonekeeper status as a member of group zonekeeper: exit" "$rc" "0"
check "status names /run/zonekeeper/control.sock (found through the installed config)" grep -Eq '^control +/run/zonekeeper/control.sock$' <<<"$st_out"
check "status names the listen address" grep -q "$ADDR:$PORT" <<<"$st_out"
check "zone list shows the dropped zone serving" grep -Eq "^$ZONE\. +primary +serving +2026112101" <<<"$(as "$MEMBER" zonekeeper zone list 2>&1)"
out=$(as "$OUTSIDER" zonekeeper status 2>&1) && rc=0 || rc=$?
eq "zonekeeper status outside group zonekeeper: refused (exit 1)" "$rc" "1"
check "refusal says permission denied" grep -qi 'permission denied' <<<"$out"
out=$(as "$OUTSIDER" zonekeeper status --control /run/zonekeeper/control.sock 2>&1) && rc=0 || rc=$?
eq "outsider with --control: refused too" "$rc" "1"

# A zone dropped in while the server runs, as an editor saves it.
sed "s/$ZONE/$ZONE2/; s/127.0.0.210/127.0.0.211/" /var/lib/zonekeeper/zones/$ZONE.zone >/var/lib/zonekeeper/zones/.$ZONE2.tmp
mv /var/lib/zonekeeper/zones/.$ZONE2.tmp /var/lib/zonekeeper/zones/$ZONE2.zone
got=
for _ in $(seq 50); do
	got=$(dig @$ADDR -p $PORT +norec +time=1 +tries=1 www.$ZONE2 A +short 2>/dev/null || true)
	[ "$got" = 127.0.0.211 ] && break
	sleep 0.2
done
eq "a zone dropped into /var/lib/zonekeeper/zones while running is served" "$got" "127.0.0.211"
out=$(as "$MEMBER" zonekeeper record add $ZONE. extra A 127.0.0.211 2>&1) && rc=0 || rc=$?
eq "a member of group zonekeeper may not edit: exit" "$rc" "1"
check "the refusal names zonekeeper-admin" grep -q 'member of group zonekeeper-admin' <<<"$out"
out=$(as "$ADMIN" zonekeeper record add $ZONE. extra A 127.0.0.211 2>&1) && rc=0 || rc=$?
eq "a member of zonekeeper-admin edits a record through the server: exit" "$rc" "0"
eq "the edit is served" "$(dig @$ADDR -p $PORT +norec +time=2 +tries=1 extra.$ZONE A +short 2>&1)" "127.0.0.211"
eq "the server rewrote the zonefile as itself" "$(stat -c %U /var/lib/zonekeeper/zones/$ZONE.zone)" "zonekeeper"
kill -HUP "$zkpid"
got=
for _ in $(seq 50); do
	got=$(as "$MEMBER" zonekeeper events --kind reload-all 2>/dev/null | grep -c reload-all || true)
	[ "$got" -ge 1 ] && break
	sleep 0.1
done
check "SIGHUP (ExecReload) rescans the zones" test "$got" -ge 1
eq "completion: zone names from the server" "$(complete_words zonekeeper zone show pt)" "$ZONE. $ZONE2."

kill -TERM "$zkpid"
rc=0
wait "$tracer" || rc=$?
daemon_pids=()
eq "SIGTERM: the server exits 0" "$rc" "0"
for _ in $(seq 20); do
	grep -q 'STOPPING=1' "$tmp/notify.log" && break
	sleep 0.1
done
check "sd_notify STOPPING=1 on shutdown" grep -q 'STOPPING=1' "$tmp/notify.log"
check "control socket removed on exit" test ! -e /run/zonekeeper/control.sock

# Every system call the server made is allowed by the unit's filter
# (@system-service minus @privileged and @resources): otherwise it
# would fail with EPERM under systemd.
systemd-analyze syscall-filter 2>/dev/null | awk '
	/^@/ { set = $1; next }
	/^[[:space:]]+[@a-z_0-9]/ && set != "" { print set, $1 }' >"$tmp/sets"
expand_set() { # expand_set @NAME: its system calls, recursively
	local m
	for m in $(awk -v s="$1" '$1 == s { print $2 }' "$tmp/sets"); do
		case $m in
		@*) expand_set "$m" ;;
		*) echo "$m" ;;
		esac
	done
}
allowed=$(comm -23 <(expand_set @system-service | sort -u) <( (expand_set @privileged; expand_set @resources) | sort -u))
# From the server's execve on: setpriv's own calls before it are not its.
used=$(sed -n '\#execve("/usr/bin/zonekeeper"#,$p' "$tmp/strace.log" | sed -E 's/^[0-9]+ +//' |
	grep -Ev '^(<\.\.\.|\+\+\+|---)' | sed -n 's/^\([a-z_0-9]*\)(.*/\1/p' | sort -u)
refused=$(comm -23 <(echo "$used") <(echo "$allowed") | tr '\n' ' ')
eq "system calls outside the unit's SystemCallFilter" "$refused" ""

# Every commented default in the config file is accepted, and a path
# NOTIFY_SOCKET works too (the form systemd uses).
timeout 300 socat -u "UNIX-RECV:$tmp/notify.sock" "OPEN:$tmp/notify2.log,creat,append" &
listener_pids+=($!)
remember $!
for _ in $(seq 50); do [ -S "$tmp/notify.sock" ] && break; sleep 0.1; done
NOTIFY_SOCKET=$tmp/notify.sock timeout 300 zonekeeper serve --config "$tmp/all.conf" --listen $ADDR:0 \
	--data "$tmp/data" --control "$tmp/data/control.sock" --ns-port $NSPORT >"$tmp/daemon2.log" 2>&1 &
p=$!
daemon_pids+=($p)
remember $p
for _ in $(seq 100); do
	grep -q READY=1 "$tmp/notify2.log" 2>/dev/null && break
	kill -0 $p 2>/dev/null || break
	sleep 0.1
done
check "the config with every default uncommented starts (READY=1 over a path socket)" grep -q READY=1 "$tmp/notify2.log"
kill $p 2>/dev/null
wait $p 2>/dev/null || true
daemon_pids=()

# ---------------------------------------------------------------- upgrade
section "# upgrade to $V2 over an edited config, with systemd (simulated) running"
mkdir -p "$tmp/src2"
tar -C "$repo" --exclude=./bin --exclude=./dist --exclude=./.git --exclude=./zonekeeper-data \
	--exclude='*.test' -cf - . | tar -C "$tmp/src2" -xf -
echo "# (a new comment in $V2's default config)" >>"$tmp/src2/packaging/etc/zonekeeper.conf"
if ! out=$(cd "$tmp/src2" && VERSION=$V2 ARCHS=$ARCH DIST="$tmp/dist2" NFPM=$NFPM GO=$GO sh packaging/package.sh 2>&1); then
	printf '%s\n' "$out" | sed 's/^/       /'
	die "building $V2"
fi
DEB2=$tmp/dist2/zonekeeper_${V2}_$ARCH.deb
RPM2=$tmp/dist2/zonekeeper-$V2-1.$RPMARCH.rpm
ok "built $V2"
sed -i 's/^#log-level = info$/log-level = debug/' /etc/zonekeeper/zonekeeper.conf
echo "# edited by the operator" >>/etc/zonekeeper/zonekeeper.conf
cp /etc/zonekeeper/zonekeeper.conf "$tmp/edited.conf"
: >"$tmp/systemctl.log"
if [ "$have_ns" = yes ]; then mode=systemd; else mode=none; fi
if out=$(dpkg_ns $mode -i --force-confdef --force-confold "$DEB2" 2>&1); then
	ok "dpkg -i --force-confdef --force-confold $(basename "$DEB2")"
else
	bad "dpkg -i $(basename "$DEB2")"
	printf '%s\n' "$out" | sed 's/^/       /'
fi
eq "dpkg status after upgrade" "$(dpkg-query -W -f '${db:Status-Abbrev}${Version}' zonekeeper)" "ii $V2"
eq "upgraded binary: version" "$(zonekeeper version)" "zonekeeper $V2"
check "the edited config is kept" cmp -s "$tmp/edited.conf" /etc/zonekeeper/zonekeeper.conf
check "the new default config is beside it (.dpkg-dist)" grep -q "$V2's default" /etc/zonekeeper/zonekeeper.conf.dpkg-dist
if [ "$mode" = systemd ]; then
	check "postinst restarted the service (systemctl restart, which failed)" grep -q 'systemctl --quiet --system restart zonekeeper.service' "$tmp/systemctl.log"
	check "postinst reloaded systemd" grep -q 'systemctl --system daemon-reload' "$tmp/systemctl.log"
else
	skip "restart on upgrade: no mount namespace to simulate a running systemd"
fi
eq "after upgrade: /var/lib/zonekeeper/zones owner and mode" "$(mode_of /var/lib/zonekeeper/zones)" "zonekeeper:zonekeeper 750"
eq "after upgrade: unit still enabled" "$(readlink -e $wants || echo missing)" "/usr/lib/systemd/system/zonekeeper.service"
check "after upgrade: zones kept" test -s /var/lib/zonekeeper/zones/$ZONE.zone

# The rpm's noreplace, for real: upgrade the scratch root over an edit.
echo "# edited by the operator" >>"$root/etc/zonekeeper/zonekeeper.conf"
cp "$root/etc/zonekeeper/zonekeeper.conf" "$tmp/edited-rpm.conf"
echo "zone data" >"$root/var/lib/zonekeeper/zones/$ZONE.zone"
check "rpm --root: upgrade to $V2" rpmq -U --nodeps --noscripts --ignorearch "$RPM2"
check "rpm upgrade keeps the edited config" cmp -s "$tmp/edited-rpm.conf" "$root/etc/zonekeeper/zonekeeper.conf"
check "rpm upgrade puts the new default in .rpmnew" grep -q "$V2's default" "$root/etc/zonekeeper/zonekeeper.conf.rpmnew"
check "rpm --root: erase" rpmq -e --noscripts zonekeeper
check "rpm erase: the binary is gone" test ! -e "$root/usr/bin/zonekeeper"
check "rpm erase: zones are kept" test -s "$root/var/lib/zonekeeper/zones/$ZONE.zone"

# ---------------------------------------------------------------- remove, purge
section "# dpkg -r, then dpkg -P"
: >"$tmp/systemctl.log"
if out=$(dpkg_ns $mode -r zonekeeper 2>&1); then ok "dpkg -r zonekeeper"; else
	bad "dpkg -r zonekeeper"
	printf '%s\n' "$out" | sed 's/^/       /'
fi
eq "dpkg status after remove" "$(status_of)" "config-files"
if [ "$mode" = systemd ]; then
	check "prerm stopped the service" grep -q 'systemctl stop zonekeeper.service' "$tmp/systemctl.log"
fi
check "remove: binary gone" test ! -e /usr/bin/zonekeeper
check "remove: unit gone" test ! -e /usr/lib/systemd/system/zonekeeper.service
check "remove: config kept" cmp -s "$tmp/edited.conf" /etc/zonekeeper/zonekeeper.conf
check "remove: zones kept" test -s /var/lib/zonekeeper/zones/$ZONE.zone
check "remove: state.db kept" test -s /var/lib/zonekeeper/state.db
eq "remove: unit masked" "$(readlink /etc/systemd/system/zonekeeper.service || echo none)" "/dev/null"

if out=$(dpkg_ns none -P zonekeeper 2>&1); then ok "dpkg -P zonekeeper"; else
	bad "dpkg -P zonekeeper"
	printf '%s\n' "$out" | sed 's/^/       /'
fi
eq "dpkg status after purge" "$(status_of)" "not-installed"
for p in /etc/zonekeeper /var/lib/zonekeeper /run/zonekeeper "$wants" /etc/systemd/system/zonekeeper.service \
	/var/lib/systemd/deb-systemd-helper-enabled/zonekeeper.service.dsh-also \
	/var/lib/systemd/deb-systemd-helper-masked/zonekeeper.service; do
	check "purge: $p gone" test ! -e "$p" -a ! -L "$p"
done
# Debian keeps system users on purge: files elsewhere may carry the uid.
check "purge: user zonekeeper kept (Debian policy)" getent passwd zonekeeper

echo "# package-test: $passed passed, $failed failed, $skipped skipped"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
