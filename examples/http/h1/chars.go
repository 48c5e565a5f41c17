package h1

// Character classes of RFC 9110 and RFC 3986, one bit each, so that validating a field costs one table load
// per byte.
const (
	classToken = 1 << iota // tchar: method and field names
	classVChar             // VCHAR (%x21-7E): request-target
	classValue             // HTAB, SP, VCHAR, obs-text: field values
	classHost              // bytes that may appear in uri-host [":" port]
)

var byteClass = func() (t [256]uint8) {
	for c := 0x21; c <= 0x7e; c++ {
		t[c] |= classVChar | classValue
	}
	for c := 0x80; c <= 0xff; c++ {
		t[c] |= classValue
	}
	t['\t'] |= classValue
	t[' '] |= classValue
	for c := '0'; c <= '9'; c++ {
		t[c] |= classToken | classHost
	}
	for c := 'a'; c <= 'z'; c++ {
		t[c] |= classToken | classHost
		t[c-'a'+'A'] |= classToken | classHost
	}
	for _, c := range []byte("!#$%&'*+-.^_`|~") {
		t[c] |= classToken
	}
	// unreserved, sub-delims, pct-encoded, IP-literal brackets and the port colon.
	for _, c := range []byte("-._~!$&'()*+,;=%[]:") {
		t[c] |= classHost
	}
	return t
}()

// isClass reports whether every byte of b is in class.
func isClass(b []byte, class uint8) bool {
	for _, c := range b {
		if byteClass[c]&class == 0 {
			return false
		}
	}
	return true
}

// isToken reports whether b is a non-empty token.
func isToken(b []byte) bool {
	return len(b) > 0 && isClass(b, classToken)
}

// trimOWS removes optional whitespace (SP and HTAB) from both ends of b.
func trimOWS(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t') {
		b = b[:len(b)-1]
	}
	return b
}

// equalLower reports whether b equals lower, ignoring ASCII case in b; lower must be lower case.
func equalLower(b []byte, lower string) bool {
	if len(b) != len(lower) {
		return false
	}
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != lower[i] {
			return false
		}
	}
	return true
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}
