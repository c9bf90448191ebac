package vpcd

import (
	"net"
	"syscall"
)

// quickAck asks the kernel to acknowledge the next segments at once instead
// of delaying the ACK. The vpcd driver writes the length prefix and the
// message with two send calls on a socket with Nagle's algorithm on, so the
// message waits for our ACK of the prefix; with delayed ACKs that costs
// about 40 ms per APDU. Linux clears the flag after use, so it is set again
// before every read.
func quickAck(conn net.Conn) {
	tc, ok := conn.(*net.TCPConn)
	if !ok {
		return
	}
	raw, err := tc.SyscallConn()
	if err != nil {
		return
	}
	raw.Control(func(fd uintptr) {
		syscall.SetsockoptInt(int(fd), syscall.IPPROTO_TCP, syscall.TCP_QUICKACK, 1)
	})
}
