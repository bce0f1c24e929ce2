# %post of the zonekeeper .rpm ($1: 1 install, 2 upgrade), as the
# %systemd_post macro does: a first installation follows the system's
# preset policy (enable or not). Nothing fails where systemd is not running.
systemd-tmpfiles --create zonekeeper.conf >/dev/null 2>&1 || :
if [ "$1" -eq 1 ]; then
	systemctl --no-reload preset zonekeeper.service >/dev/null 2>&1 || :
fi
exit 0
