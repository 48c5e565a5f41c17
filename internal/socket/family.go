package socket

// Family is a socket's address family, as far as the engine cares.
type Family uint8

// The families the engine serves.
const (
	FamilyIPv4 Family = iota + 1
	FamilyIPv6
	FamilyUnix
)
