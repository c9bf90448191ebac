package pcsctest

import (
	"bufio"
	"encoding/hex"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// tcpListen is the st column of /proc/net/tcp for a listening socket.
const tcpListen = "0A"

// ListeningTCP returns the addresses of the TCP sockets in LISTEN state that
// process pid holds open, read from the kernel's socket table
// (/proc/net/tcp and /proc/net/tcp6, matched to /proc/<pid>/fd by inode).
func ListeningTCP(pid int) ([]netip.AddrPort, error) {
	inodes, err := socketInodes(pid)
	if err != nil {
		return nil, err
	}
	return listeningTCP(func(inode string) bool { return inodes[inode] })
}

// AllListeningTCP returns the addresses of every TCP socket in LISTEN state
// on the machine (in this network namespace).
func AllListeningTCP() ([]netip.AddrPort, error) {
	return listeningTCP(func(string) bool { return true })
}

// socketInodes returns the inodes of the sockets process pid holds open.
func socketInodes(pid int) (map[string]bool, error) {
	inodes := map[string]bool{}
	fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		return nil, fmt.Errorf("list sockets of %d: %w", pid, err)
	}
	for _, fd := range fds {
		link, err := os.Readlink(filepath.Join(fmt.Sprintf("/proc/%d/fd", pid), fd.Name()))
		if err != nil {
			continue // closed meanwhile
		}
		if ino, ok := strings.CutPrefix(link, "socket:["); ok {
			inodes[strings.TrimSuffix(ino, "]")] = true
		}
	}
	return inodes, nil
}

// listeningTCP reads the LISTEN sockets whose inode keep accepts from the
// kernel's socket tables.
func listeningTCP(keep func(inode string) bool) ([]netip.AddrPort, error) {
	var out []netip.AddrPort
	for _, table := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		f, err := os.Open(table)
		if err != nil {
			return nil, fmt.Errorf("read socket table: %w", err)
		}
		s := bufio.NewScanner(f)
		s.Scan() // header
		for s.Scan() {
			// sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
			fields := strings.Fields(s.Text())
			if len(fields) < 10 || fields[3] != tcpListen || !keep(fields[9]) {
				continue
			}
			ap, err := parseProcAddr(fields[1])
			if err != nil {
				f.Close()
				return nil, fmt.Errorf("read socket table: %w", err)
			}
			out = append(out, ap)
		}
		f.Close()
		if err := s.Err(); err != nil {
			return nil, fmt.Errorf("read socket table: %w", err)
		}
	}
	return out, nil
}

// parseProcAddr parses "0100007F:1F90": the address as the kernel stores it
// (32-bit words in host byte order, little-endian here), then the port in hex.
func parseProcAddr(s string) (netip.AddrPort, error) {
	host, port, ok := strings.Cut(s, ":")
	if !ok {
		return netip.AddrPort{}, fmt.Errorf("parse address %q", s)
	}
	b, err := hex.DecodeString(host)
	if err != nil || (len(b) != 4 && len(b) != 16) {
		return netip.AddrPort{}, fmt.Errorf("parse address %q", s)
	}
	for i := 0; i < len(b); i += 4 {
		b[i], b[i+1], b[i+2], b[i+3] = b[i+3], b[i+2], b[i+1], b[i]
	}
	p, err := strconv.ParseUint(port, 16, 16)
	if err != nil {
		return netip.AddrPort{}, fmt.Errorf("parse address %q: %w", s, err)
	}
	addr, _ := netip.AddrFromSlice(b)
	return netip.AddrPortFrom(addr.Unmap(), uint16(p)), nil
}
