# bash completion for sshpool(1), the client of sshpoold.
#
# Install as /usr/share/bash-completion/completions/sshpool, or source it.
# Host arguments complete from ~/.ssh/known_hosts names (bash-completion's
# _known_hosts_real when available) and from files for -h/-A/--host-args.

_sshpool_hosts()
{
	if declare -F _known_hosts_real >/dev/null; then
		_known_hosts_real -- "$cur"
	fi
}

_sshpool()
{
	local cur prev words cword
	if declare -F _init_completion >/dev/null; then
		_init_completion -n = || return
	else
		cur=${COMP_WORDS[COMP_CWORD]}
		prev=${COMP_WORDS[COMP_CWORD-1]}
		words=("${COMP_WORDS[@]}")
		cword=$COMP_CWORD
	fi

	local commands="run connect disconnect status ping"
	local host_opts="-H --host -h --hosts -x --exclude -l --user -J --jump"
	local run_opts="$host_opts -t --timeout --idle-timeout -E --env --pty
		--sudo --sudo= --shell --stdin --stdin-file -I --stdin-dir
		-A --args-file --host-args -i --inline -b --gather -o --outdir
		-e --errdir --json --color --no-progress -v --verbose
		--stop-on-error --failed-hosts --identity --agent --forward-agent
		--ask-pass --help"
	local pool_opts="$host_opts --json -v --verbose --failed-hosts --help"

	# The command is the first word that is not a global option.
	local i cmd=
	for ((i = 1; i < cword; i++)); do
		case ${words[i]} in
		-s | --socket) ((i++)) ;;
		-*) ;;
		*) cmd=${words[i]}; break ;;
		esac
	done

	case $prev in
	-s | --socket)
		COMPREPLY=($(compgen -f -- "$cur"))
		return ;;
	-h | --hosts | -A | --args-file | --host-args | --stdin-file | \
	--failed-hosts | --identity)
		COMPREPLY=($(compgen -f -- "$cur"))
		return ;;
	-o | --outdir | -e | --errdir | -I | --stdin-dir)
		COMPREPLY=($(compgen -d -- "$cur"))
		return ;;
	--shell)
		COMPREPLY=($(compgen -W "$(grep -v '^#' /etc/shells 2>/dev/null)" -- "$cur"))
		return ;;
	--color)
		COMPREPLY=($(compgen -W "auto always never" -- "$cur"))
		return ;;
	-H | --host | -x | --exclude | -J | --jump)
		_sshpool_hosts
		return ;;
	-l | --user)
		COMPREPLY=($(compgen -u -- "$cur"))
		return ;;
	-t | --timeout | --idle-timeout | -E | --env | -c | --count)
		return ;;
	esac

	case $cmd in
	"")
		if [[ $cur == -* ]]; then
			COMPREPLY=($(compgen -W "-s --socket -V --version --help" -- "$cur"))
		else
			COMPREPLY=($(compgen -W "$commands" -- "$cur"))
		fi ;;
	run)
		if [[ $cur == -* ]]; then
			COMPREPLY=($(compgen -W "$run_opts" -- "$cur"))
		fi ;;
	connect | disconnect)
		if [[ $cur == -* ]]; then
			COMPREPLY=($(compgen -W "$pool_opts" -- "$cur"))
		else
			_sshpool_hosts
		fi ;;
	status)
		COMPREPLY=($(compgen -W "--json --help" -- "$cur")) ;;
	ping)
		COMPREPLY=($(compgen -W "-c --count --json --help" -- "$cur")) ;;
	esac
}
complete -F _sshpool sshpool
