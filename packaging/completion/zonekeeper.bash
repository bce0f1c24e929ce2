# bash completion for zonekeeper(8): commands, verbs, flags, zone and key
# names (asked of the running server, when it answers), files for check
# and --config.

_zonekeeper_names() {
	# $1: `zone` or `key`; the first column of its `list` table.
	zonekeeper "$1" list 2>/dev/null | awk 'NR > 1 { print $1 }'
}

_zonekeeper() {
	local cur prev words cword
	_init_completion || return

	local commands="serve check status events zone record key meta autoprimary peer export tui version help"
	local client_flags="--json --control --data --config --help"
	local serve_flags="--config --listen --data --control --control-admin-group --health-interval --ns-port
		--notify-resolve --allow-axfr --also-notify --xfr-timeout --xfr-idle-timeout
		--xfr-max-records --xfr-max-bytes --xfr-memory --udp-size --tcp-idle-timeout --tcp-max-conns
		--tcp-max-conns-per-addr --tcp-max-conns-per-prefix --rrl-responses-per-second --rrl-slip
		--zone-max-records --events-max --shutdown-timeout --log-level --udp-workers --fast-path --fast-path-entries --zone-cache --help"

	case $prev in
	--config)
		_filedir conf
		return
		;;
	--data)
		_filedir -d
		return
		;;
	--control)
		_filedir sock
		return
		;;
	--log-level)
		COMPREPLY=($(compgen -W "debug info warn error" -- "$cur"))
		return
		;;
	--notify-resolve | --fast-path | --zone-cache)
		COMPREPLY=($(compgen -W "yes no" -- "$cur"))
		return
		;;
	--kind)
		COMPREPLY=($(compgen -W "primary native" -- "$cur"))
		return
		;;
	--serial-policy)
		COMPREPLY=($(compgen -W "increment date unixtime" -- "$cur"))
		return
		;;
	--algorithm)
		COMPREPLY=($(compgen -W "hmac-md5 hmac-sha1 hmac-sha224 hmac-sha256 hmac-sha384 hmac-sha512" -- "$cur"))
		return
		;;
	--role)
		COMPREPLY=($(compgen -W "secondary primary" -- "$cur"))
		return
		;;
	--zones)
		COMPREPLY=($(compgen -W "$(_zonekeeper_names zone)" -- "$cur"))
		return
		;;
	--tsig)
		COMPREPLY=($(compgen -W "$(_zonekeeper_names key)" -- "$cur"))
		return
		;;
	--zone)
		COMPREPLY=($(compgen -W "$(_zonekeeper_names zone)" -- "$cur"))
		return
		;;
	--listen | --origin | --secret | --ttl | --if-serial | --limit | --health-interval | \
		--ns-port | --allow-axfr | --also-notify | --xfr-* | --udp-size | \
		--tcp-idle-timeout | --tcp-max-conns* | --rrl-* | --zone-max-records | --events-max | --shutdown-timeout | --timeout | --udp-workers | --fast-path-entries)
		return
		;;
	esac

	# The command and its verb: the first words that are not flags or
	# flag values.
	local i cmd="" verb="" npos=0
	for ((i = 1; i < cword; i++)); do
		case ${words[i]} in
		--config | --data | --control | --listen | --origin | --secret | --ttl | \
			--if-serial | --limit | --kind | --serial-policy | --algorithm | --tsig | \
			--zone | --log-level | --notify-resolve | --health-interval | --ns-port | \
			--allow-axfr | --also-notify | --xfr-* | --udp-size | --tcp-idle-timeout | --tcp-max-conns* | \
			--events-max | --role | --zones | --timeout | --udp-workers | --fast-path | \
			--fast-path-entries | --zone-cache)
			((i++))
			;;
		-*) ;;
		*)
			if [[ -z $cmd ]]; then
				cmd=${words[i]}
			elif [[ -z $verb ]]; then
				verb=${words[i]}
			else
				((npos++))
			fi
			;;
		esac
	done

	if [[ -z $cmd ]]; then
		if [[ $cur == -* ]]; then
			COMPREPLY=($(compgen -W "$client_flags" -- "$cur"))
		else
			COMPREPLY=($(compgen -W "$commands" -- "$cur"))
		fi
		return
	fi

	local verbs="" flags="$client_flags"
	case $cmd in
	serve)
		COMPREPLY=($(compgen -W "$serve_flags" -- "$cur"))
		return
		;;
	check)
		if [[ $cur == -* ]]; then
			COMPREPLY=($(compgen -W "--origin --ops --help" -- "$cur"))
		else
			_filedir zone
		fi
		return
		;;
	status | tui) ;;
	events) flags="$flags --follow --zone --kind --limit" ;;
	zone) verbs="list show health add-secondary set remove retrieve notify notify-host promote demote set-serial" ;;
	record) verbs="add set delete" ;;
	key) verbs="add list remove" ;;
	meta) verbs="set" ;;
	autoprimary) verbs="add list remove" ;;
	peer) verbs="add list remove" ;;
	export)
		verbs="bind knot nsd"
		flags="$flags --role --zones"
		;;
	*) return ;;
	esac

	if [[ -n $verbs && -z $verb ]]; then
		[[ $cur == -* ]] || COMPREPLY=($(compgen -W "$verbs" -- "$cur"))
		return
	fi
	case $cmd/$verb in
	zone/add-secondary) flags="$flags --tsig" ;;
	zone/set) flags="$flags --kind --serial-policy" ;;
	zone/set-serial) flags="$flags --dry-run --timeout" ;;
	record/add | record/set) flags="$flags --ttl --if-serial" ;;
	record/delete) flags="$flags --if-serial" ;;
	key/add) flags="$flags --algorithm --secret" ;;
	esac
	if [[ $cur == -* ]]; then
		COMPREPLY=($(compgen -W "$flags" -- "$cur"))
		return
	fi
	# The first argument of these verbs is a zone or a key.
	if ((npos == 0)); then
		case $cmd/$verb in
		zone/show | zone/set | zone/remove | zone/set-serial | record/* | meta/set)
			COMPREPLY=($(compgen -W "$(_zonekeeper_names zone)" -- "$cur"))
			;;
		key/remove)
			COMPREPLY=($(compgen -W "$(_zonekeeper_names key)" -- "$cur"))
			;;
		esac
	fi
} &&
	complete -F _zonekeeper zonekeeper
