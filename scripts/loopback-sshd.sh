# Sourced by the SFTP benchmarks: a private OpenSSH sshd on a free loopback port for one system account,
# key logins only, internal-sftp confined to a home directory (the setup of Tests/TestSupport/TestSSHD.swift).
#
#   start_loopback_sshd USER DIR    # needs root; sets port, sshd_pid, and under DIR: client_key,
#                                   # known_hosts, home/USER (the account's directory, owned by it)
#   stop_loopback_sshd
#   sftp_seconds USER DIR BATCH     # wall seconds of one OpenSSH `sftp -b BATCH` session against it
start_loopback_sshd() {
    local user="$1" S="$2"
    mkdir -p -m 0755 /run/sshd
    id "$user" >/dev/null 2>&1 || useradd --system --no-create-home --home-dir / --shell /usr/sbin/nologin "$user"
    usermod -p '*' "$user"
    ssh-keygen -q -t ed25519 -N '' -C swg-bench-host -f "$S/host_key"
    ssh-keygen -q -t ed25519 -N '' -C swg-bench -f "$S/client_key"
    mkdir -p "$S/authorized_keys" "$S/home/$user"
    cp "$S/client_key.pub" "$S/authorized_keys/$user"
    chown "$user:" "$S/home/$user"
    port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
    cat > "$S/sshd_config" <<CFG
Port $port
ListenAddress 127.0.0.1
HostKey $S/host_key
PidFile $S/sshd.pid
AuthorizedKeysFile $S/authorized_keys/%u
PubkeyAuthentication yes
StrictModes no
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
PermitRootLogin no
AllowUsers $user
Subsystem sftp internal-sftp
Match User $user
    ForceCommand internal-sftp -d $S/home/$user
    AllowTcpForwarding no
    X11Forwarding no
    PermitTTY no
CFG
    /usr/sbin/sshd -D -e -f "$S/sshd_config" 2>"$S/sshd.log" &
    sshd_pid=$!
    for _ in $(seq 100); do
        ssh-keyscan -T 1 -p "$port" -t ed25519 127.0.0.1 2>/dev/null | grep -v '^#' > "$S/known_hosts" || true
        [[ -s "$S/known_hosts" ]] && return 0
        sleep 0.05
    done
    cat "$S/sshd.log" >&2
    echo "loopback-sshd: sshd did not start" >&2
    return 2
}

stop_loopback_sshd() {
    if [[ -n "${sshd_pid:-}" ]]; then kill "$sshd_pid" 2>/dev/null && wait "$sshd_pid" 2>/dev/null || true; fi
    sshd_pid=""
}

sftp_seconds() {
    local user="$1" S="$2" batch="$3" start end
    start=$(date +%s.%N)
    sftp -q -b "$batch" -F /dev/null -i "$S/client_key" -P "$port" -o UserKnownHostsFile="$S/known_hosts" \
        -o GlobalKnownHostsFile=/dev/null -o StrictHostKeyChecking=yes -o BatchMode=yes "$user@127.0.0.1" >/dev/null
    end=$(date +%s.%N)
    echo "$end - $start" | bc -l
}
