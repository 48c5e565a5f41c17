package h1

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"sync"
	"testing"
	"time"
)

// readResponse parses out with net/http and returns the response and its body.
func readResponse(tb testing.TB, out []byte) (*http.Response, []byte) {
	tb.Helper()
	r := bufio.NewReader(bytes.NewReader(out))
	resp, err := http.ReadResponse(r, nil)
	if err != nil {
		tb.Fatalf("net/http cannot read %q: %v", out, err)
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatalf("reading body of %q: %v", out, err)
	}
	if rest := r.Buffered(); rest != 0 {
		tb.Fatalf("%d bytes after the response in %q", rest, out)
	}
	return resp, body
}

func TestAppendResponsePlaintext(t *testing.T) {
	got := AppendResponse([]byte("prev"), 200, []byte("Sun, 06 Nov 1994 08:49:37 GMT"), []byte("text/plain"),
		[]byte("Hello, World!"), true)
	const want = "prev" + "HTTP/1.1 200 OK\r\n" +
		"Server: evloop\r\n" +
		"Date: Sun, 06 Nov 1994 08:49:37 GMT\r\n" +
		"Content-Type: text/plain\r\n" +
		"Content-Length: 13\r\n" +
		"\r\n" +
		"Hello, World!"
	if string(got) != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
}

func TestAppendResponse(t *testing.T) {
	date := AppendDate(nil, time.Date(2024, 2, 29, 23, 59, 59, 0, time.UTC))
	tests := []struct {
		name         string
		status       int
		date         []byte
		contentType  []byte
		body         []byte
		keepAlive    bool
		wantStatus   int
		wantBody     string
		wantLength   int64
		wantClose    bool
		wantType     string
		wantDate     string
		wantNoLength bool
	}{
		{name: "plaintext keep-alive", status: 200, date: date, contentType: []byte("text/plain"),
			body: []byte("Hello, World!"), keepAlive: true,
			wantStatus: 200, wantBody: "Hello, World!", wantLength: 13, wantType: "text/plain", wantDate: string(date)},
		{name: "plaintext close", status: 200, date: date, contentType: []byte("text/plain"),
			body: []byte("Hello, World!"), keepAlive: false,
			wantStatus: 200, wantBody: "Hello, World!", wantLength: 13, wantClose: true, wantType: "text/plain", wantDate: string(date)},
		{name: "error without body", status: 431, date: date,
			wantStatus: 431, wantClose: true, wantDate: string(date)},
		{name: "no date, no type", status: 404, body: []byte("nope"), keepAlive: true,
			wantStatus: 404, wantBody: "nope", wantLength: 4},
		{name: "unknown status keeps its code", status: 299, body: []byte("x"), keepAlive: true,
			wantStatus: 299, wantBody: "x", wantLength: 1},
		{name: "status out of range becomes 500", status: 42, body: []byte("x"), keepAlive: true,
			wantStatus: 500, wantBody: "x", wantLength: 1},
		{name: "negative status becomes 500", status: -200, keepAlive: true,
			wantStatus: 500},
		{name: "204 has no length and no body", status: 204, body: []byte("dropped"), keepAlive: true,
			wantStatus: 204, wantNoLength: true},
		{name: "304 has no length and no body", status: 304, body: []byte("dropped"), keepAlive: true,
			wantStatus: 304, wantNoLength: true},
		{name: "header injection is neutralised", status: 200, contentType: []byte("text/plain\r\nX-Evil: 1"),
			date: []byte("d\r\n\r\nHTTP/1.1 200 OK"), body: []byte("ok"), keepAlive: true,
			wantStatus: 200, wantBody: "ok", wantLength: 2, wantType: "text/plainX-Evil: 1", wantDate: "dHTTP/1.1 200 OK"},
		{name: "large body", status: 200, body: bytes.Repeat([]byte("z"), 100000), keepAlive: true,
			wantStatus: 200, wantBody: string(bytes.Repeat([]byte("z"), 100000)), wantLength: 100000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := AppendResponse(nil, tt.status, tt.date, tt.contentType, tt.body, tt.keepAlive)
			resp, body := readResponse(t, out)
			if resp.StatusCode != tt.wantStatus {
				t.Errorf("status = %d, want %d", resp.StatusCode, tt.wantStatus)
			}
			if string(body) != tt.wantBody {
				t.Errorf("body = %q, want %q", body, tt.wantBody)
			}
			if resp.Close != tt.wantClose {
				t.Errorf("Close = %v, want %v", resp.Close, tt.wantClose)
			}
			if got := resp.Header.Get("Content-Type"); got != tt.wantType {
				t.Errorf("Content-Type = %q, want %q", got, tt.wantType)
			}
			if got := resp.Header.Get("Date"); got != tt.wantDate {
				t.Errorf("Date = %q, want %q", got, tt.wantDate)
			}
			if got := resp.Header.Get("Server"); got != "evloop" {
				t.Errorf("Server = %q, want evloop", got)
			}
			if got := resp.Header.Get("X-Evil"); got != "" {
				t.Errorf("injected field X-Evil = %q", got)
			}
			_, hasLength := resp.Header["Content-Length"]
			if tt.wantNoLength {
				if hasLength {
					t.Errorf("Content-Length present for status %d", tt.status)
				}
				return
			}
			if resp.ContentLength != tt.wantLength || !hasLength {
				t.Errorf("Content-Length = %d (present %v), want %d", resp.ContentLength, hasLength, tt.wantLength)
			}
		})
	}
}

func TestAppendDate(t *testing.T) {
	tests := []struct {
		name string
		t    time.Time
	}{
		{name: "Unix epoch", t: time.Unix(0, 0)},
		{name: "RFC example", t: time.Date(1994, 11, 6, 8, 49, 37, 0, time.UTC)},
		{name: "leap day", t: time.Date(2024, 2, 29, 12, 0, 0, 0, time.UTC)},
		{name: "last second of a year", t: time.Date(1999, 12, 31, 23, 59, 59, 999999999, time.UTC)},
		{name: "first second of a year", t: time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)},
		{name: "2038 rollover", t: time.Unix(1<<31, 0)},
		{name: "non-UTC zone crossing midnight", t: time.Date(2023, 3, 1, 1, 30, 0, 0, time.FixedZone("X", 5*3600))},
		{name: "negative zone", t: time.Date(2023, 12, 31, 20, 0, 0, 0, time.FixedZone("Y", -9*3600))},
		{name: "year 1", t: time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC)},
		{name: "year 0", t: time.Date(0, 6, 15, 0, 0, 0, 0, time.UTC)},
		{name: "year -1", t: time.Date(-1, 6, 15, 0, 0, 0, 0, time.UTC)},
		{name: "year -12345", t: time.Date(-12345, 6, 15, 0, 0, 0, 0, time.UTC)},
		{name: "year 9999", t: time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC)},
		{name: "year 10000", t: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)},
		{name: "zero time", t: time.Time{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := tt.t.UTC().Format(http.TimeFormat)
			if got := string(AppendDate(nil, tt.t)); got != want {
				t.Errorf("AppendDate = %q, want %q", got, want)
			}
		})
	}
}

func TestAppendDateRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	dst := []byte("keep")
	for i := 0; i < 20000; i++ {
		tm := time.Unix(rng.Int64N(1<<40)-1<<39, 0)
		want := "keep" + tm.UTC().Format(http.TimeFormat)
		if got := string(AppendDate(dst[:4], tm)); got != want {
			t.Fatalf("AppendDate(%d) = %q, want %q", tm.Unix(), got, want)
		}
	}
}

func TestDateCache(t *testing.T) {
	var d DateCache
	if got := d.Get(); got != nil {
		t.Fatalf("Get before Refresh = %q, want nil", got)
	}
	first := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		name     string
		now      time.Time
		wantDate time.Time
	}{
		{name: "first refresh", now: first, wantDate: first},
		{name: "same second keeps value", now: first.Add(900 * time.Millisecond), wantDate: first},
		{name: "next second", now: first.Add(time.Second), wantDate: first.Add(time.Second)},
		{name: "clock stepped back", now: first, wantDate: first},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d.Refresh(tt.now)
			want := tt.wantDate.Format(http.TimeFormat)
			if got := string(d.Get()); got != want {
				t.Errorf("Get = %q, want %q", got, want)
			}
		})
	}
}

// TestDateCacheConcurrent runs one refreshing goroutine against several readers; under -race it proves the
// publication is race-free, and the readers check they never see a torn or malformed value.
func TestDateCacheConcurrent(t *testing.T) {
	var d DateCache
	base := time.Date(2030, 6, 1, 0, 0, 0, 0, time.UTC)
	d.Refresh(base)
	const readers, refreshes, reads = 4, 2000, 5000
	errs := make(chan error, readers)
	var wg sync.WaitGroup
	for r := 0; r < readers; r++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < reads; i++ {
				v := d.Get()
				parsedTime, err := http.ParseTime(string(v))
				if err != nil || parsedTime.Before(base) || parsedTime.After(base.Add(refreshes*time.Second)) {
					errs <- fmt.Errorf("reader saw %q (parse error %v)", v, err)
					return
				}
			}
		}()
	}
	for i := 1; i <= refreshes; i++ {
		d.Refresh(base.Add(time.Duration(i) * time.Second))
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if got, want := string(d.Get()), base.Add(refreshes*time.Second).Format(http.TimeFormat); got != want {
		t.Errorf("final Get = %q, want %q", got, want)
	}
}
