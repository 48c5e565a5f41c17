package h1

import "bytes"

// parseField checks one header field line and records the fields that decide framing and persistence.
// Errors that depend on a single line are returned here, as soon as the line is complete.
func parseField(line []byte, req *Request, st *fieldState) error {
	if line[0] == ' ' || line[0] == '\t' {
		return errObsFold
	}
	colon := bytes.IndexByte(line, ':')
	if colon <= 0 {
		return errHeaderLine
	}
	name := line[:colon]
	if !isToken(name) {
		return errHeaderName
	}
	value := trimOWS(line[colon+1:])
	if !isClass(value, classValue) {
		return errHeaderValue
	}
	req.HeaderCount++
	value = value[:len(value):len(value)]
	switch len(name) {
	case len("host"):
		if equalLower(name, "host") {
			return recordHost(value, req, st)
		}
	case len("connection"):
		if equalLower(name, "connection") {
			recordConnection(value, st)
		}
	case len("content-length"):
		if equalLower(name, "content-length") {
			return recordLength(value, st)
		}
	case len("transfer-encoding"):
		if equalLower(name, "transfer-encoding") {
			st.coding = true
		}
	}
	return nil
}

// recordHost enforces RFC 9112 section 3.2: a server must reject a second Host field or an invalid value,
// because proxies and origins picking different hosts is a routing and cache-poisoning hole.
func recordHost(value []byte, req *Request, st *fieldState) error {
	st.hosts++
	if st.hosts > 1 {
		return errHostRepeated
	}
	if !isClass(value, classHost) {
		return errHostValue
	}
	req.Host = value
	return nil
}

// recordConnection looks for the close and keep-alive options in a comma-separated Connection list.
func recordConnection(value []byte, st *fieldState) {
	// Bounded: each pass removes at least one byte (the comma) or ends the list.
	for len(value) > 0 {
		option := value
		if comma := bytes.IndexByte(value, ','); comma >= 0 {
			option, value = value[:comma], value[comma+1:]
		} else {
			value = nil
		}
		option = trimOWS(option)
		switch {
		case equalLower(option, "close"):
			st.close = true
		case equalLower(option, "keep-alive"):
			st.keepAlive = true
		}
	}
}

// recordLength parses Content-Length. The value saturates just above MaxBodyBytes so that no digit string,
// however long, can overflow; a repeated field must be byte-identical to the first (RFC 9110 section 8.6),
// since two differing lengths are the classic request-smuggling ambiguity.
func recordLength(value []byte, st *fieldState) error {
	if st.length != nil {
		if !bytes.Equal(st.length, value) {
			return errLengthConflict
		}
		return nil
	}
	if len(value) == 0 {
		return errContentLength
	}
	var n int64
	for _, c := range value {
		if c < '0' || c > '9' {
			return errContentLength
		}
		n = n*10 + int64(c-'0')
		if n > MaxBodyBytes {
			n = MaxBodyBytes + 1
		}
	}
	st.length = value
	st.bodyLength = n
	return nil
}

// finishFields applies the rules that need the whole header section, in a fixed order so that the same
// request always gets the same error.
func finishFields(req *Request, st *fieldState) error {
	if st.coding {
		if st.length != nil {
			return errLengthAndCoding
		}
		return errTransferCoding
	}
	if req.Minor == 1 && st.hosts == 0 {
		return errHostMissing
	}
	if st.bodyLength > MaxBodyBytes {
		return ErrBodyTooLarge
	}
	req.KeepAlive = !st.close && (req.Minor == 1 || st.keepAlive)
	return nil
}
