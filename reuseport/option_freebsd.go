package reuseport

import "golang.org/x/sys/unix"

// reusePortOption is the socket option that lets sockets share a port:
// SO_REUSEPORT_LB, which also balances connections and datagrams between
// them, where FreeBSD's plain SO_REUSEPORT delivers to one socket only.
const reusePortOption = unix.SO_REUSEPORT_LB
