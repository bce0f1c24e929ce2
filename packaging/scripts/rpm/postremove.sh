# %postun of the zonekeeper .rpm ($1: 0 erase, 1 upgrade), as the
# %systemd_postun_with_restart macro does: an upgrade restarts a running
# server. An erase keeps /var/lib/zonekeeper's zones, keys and log (RPM
# removes only the empty directories it owns) and the user and group.
systemctl daemon-reload >/dev/null 2>&1 || :
if [ "$1" -ge 1 ]; then
	systemctl try-restart zonekeeper.service >/dev/null 2>&1 || :
fi
exit 0
