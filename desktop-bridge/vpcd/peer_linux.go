package vpcd

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
)

// peerUID returns the user owning the other end of conn, a connection over
// loopback, read from the kernel's socket table: the row whose local address
// is conn's remote one and whose remote address is conn's local one.
func peerUID(conn net.Conn) (int, error) {
	local, ok1 := conn.LocalAddr().(*net.TCPAddr)
	remote, ok2 := conn.RemoteAddr().(*net.TCPAddr)
	if !ok1 || !ok2 || local.IP.To4() == nil || remote.IP.To4() == nil {
		return 0, fmt.Errorf("find peer of %v: not TCP over IPv4", conn.RemoteAddr())
	}
	f, err := os.Open("/proc/net/tcp")
	if err != nil {
		return 0, fmt.Errorf("find peer of %v: %w", remote, err)
	}
	defer f.Close()
	want, wantRemote := procAddr(remote), procAddr(local)
	s := bufio.NewScanner(f)
	for s.Scan() {
		// sl local_address rem_address st tx:rx tr:when retrnsmt uid ...
		fields := strings.Fields(s.Text())
		if len(fields) > 7 && fields[1] == want && fields[2] == wantRemote {
			return strconv.Atoi(fields[7])
		}
	}
	if err := s.Err(); err != nil {
		return 0, fmt.Errorf("find peer of %v: %w", remote, err)
	}
	return 0, fmt.Errorf("find peer of %v: not in the socket table", remote)
}

// procAddr writes an IPv4 address as /proc/net/tcp does: the address as a
// 32-bit word in host byte order (little-endian here), then the port, in hex.
func procAddr(a *net.TCPAddr) string {
	ip := a.IP.To4()
	return fmt.Sprintf("%02X%02X%02X%02X:%04X", ip[3], ip[2], ip[1], ip[0], a.Port)
}

// peerAllowed reports whether the process at the other end of conn may talk
// to the card: pcscd (root) or this process's own user. Another user's
// process could otherwise take the slot before pcscd does and try PINs, or
// hold it; through pcscd, polkit decides who may use a card.
func peerAllowed(conn net.Conn) (bool, int, error) {
	uid, err := peerUID(conn)
	if err != nil {
		return false, -1, err
	}
	return uid == 0 || uid == os.Geteuid(), uid, nil
}
