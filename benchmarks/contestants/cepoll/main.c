/*
 * cepoll: the C reference contestant. One thread, one level-triggered epoll
 * set, non-blocking sockets: the least a server can do per message, to show
 * how far the Go contestants are from it.
 *
 *   cepoll -proto echo|http -addr host:port [-loops N] [-stats FILE]
 *
 * -loops and -stats are accepted so the runner can start every contestant
 * the same way; cepoll always runs one loop and has no Go runtime to report
 * on. Like the Go contestants it reads at most 64 KiB per readiness event
 * into one buffer shared by all connections, writes each reply at once, and
 * keeps only what the kernel does not take in a per-connection buffer,
 * flushed on EPOLLOUT. Echo writes back what arrived. HTTP answers each
 * complete request (everything up to "\r\n\r\n") with the bytes that
 * internal/plaintext.Answer writes, all the replies to one read in one
 * write; a partial request waits in the connection for its rest. It does
 * not parse the request line or fields: it is a floor, not a server.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum {
	READ_SIZE = 64 << 10,     /* bytes per read, as evloop's default read buffer */
	MAX_EVENTS = 256,         /* events per epoll_wait */
	ACCEPT_BATCH = 256,       /* accepts per readiness event, as evloop */
	OUT_HIGH = 1 << 20,       /* stop reading above this much pending output ... */
	OUT_LOW = 256 << 10,      /* ... and read again below this (evloop's watermarks) */
	MAX_REQUEST = 64 << 10,   /* a partial request longer than this closes the connection */
	DATE_LEN = 29,            /* "Mon, 02 Jan 2006 15:04:05 GMT" */
};

/* buf is a growable byte buffer; off is where its unconsumed bytes start. */
struct buf {
	char *p;
	size_t off, len, cap;
};

/* conn is one connection, found by its descriptor. open is 0 for a free slot. */
struct conn {
	struct buf in;  /* a partial HTTP request */
	struct buf out; /* output the kernel did not take yet */
	unsigned char open, reading;
};

static struct conn *conns; /* indexed by descriptor */
static size_t nconns;
static int epfd, lnfd, http;
static char readbuf[READ_SIZE];
static struct buf batch; /* HTTP replies to one read */

/* response is one plaintext reply, rebuilt when the second changes. */
static char response[256];
static size_t response_len;
static time_t response_sec = -1;

static void die(const char *what)
{
	fprintf(stderr, "cepoll: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void usage(const char *msg)
{
	fprintf(stderr, "cepoll: %s\nusage: cepoll -proto echo|http -addr host:port [-loops N] [-stats FILE]\n", msg);
	exit(2);
}

/* refresh_response rebuilds the reply when the wall-clock second changed:
 * the bytes of h1.AppendResponse(dst, 200, date, "text/plain", "Hello, World!", true). */
static void refresh_response(void)
{
	static const char *days = "SunMonTueWedThuFriSat", *months = "JanFebMarAprMayJunJulAugSepOctNovDec";
	time_t now = time(NULL);
	struct tm tm;
	if (now == response_sec)
		return;
	response_sec = now;
	gmtime_r(&now, &tm);
	int n = snprintf(response, sizeof response,
			 "HTTP/1.1 200 OK\r\nServer: evloop\r\nDate: %.3s, %02d %.3s %04d %02d:%02d:%02d GMT\r\n"
			 "Content-Type: text/plain\r\nContent-Length: 13\r\n\r\nHello, World!",
			 days + 3 * tm.tm_wday, tm.tm_mday, months + 3 * tm.tm_mon, tm.tm_year + 1900,
			 tm.tm_hour, tm.tm_min, tm.tm_sec);
	response_len = (size_t)n;
}

static void reserve(struct buf *b, size_t more)
{
	if (b->off > 0 && b->off + b->len + more > b->cap) {
		memmove(b->p, b->p + b->off, b->len);
		b->off = 0;
	}
	if (b->len + more <= b->cap)
		return;
	size_t cap = b->cap ? b->cap : 4096;
	while (cap < b->len + more)
		cap *= 2;
	char *p = realloc(b->p, cap);
	if (p == NULL) {
		fprintf(stderr, "cepoll: out of memory\n");
		exit(1);
	}
	b->p = p;
	b->cap = cap;
}

static void append(struct buf *b, const char *p, size_t n)
{
	reserve(b, n);
	memcpy(b->p + b->off + b->len, p, n);
	b->len += n;
}

static void release(struct buf *b)
{
	free(b->p);
	memset(b, 0, sizeof *b);
}

static void watch(int fd, struct conn *c, int op)
{
	struct epoll_event ev = {.data.fd = fd};
	if (c->reading)
		ev.events |= EPOLLIN;
	if (c->out.len > 0)
		ev.events |= EPOLLOUT;
	if (epoll_ctl(epfd, op, fd, &ev) < 0)
		die("epoll_ctl");
}

static void close_conn(int fd)
{
	struct conn *c = &conns[fd];
	release(&c->in);
	release(&c->out);
	memset(c, 0, sizeof *c);
	close(fd); /* also removes fd from the epoll set */
}

/* flush writes pending output; it returns -1 if the connection was closed. */
static int flush(int fd, struct conn *c)
{
	while (c->out.len > 0) {
		ssize_t n = write(fd, c->out.p + c->out.off, c->out.len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				break;
			close_conn(fd);
			return -1;
		}
		c->out.off += (size_t)n;
		c->out.len -= (size_t)n;
	}
	if (c->out.len == 0)
		c->out.off = 0;
	int reading = c->out.len < (c->reading ? OUT_HIGH : OUT_LOW);
	if (c->out.len == 0 || reading != c->reading) {
		c->reading = (unsigned char)reading;
		watch(fd, c, EPOLL_CTL_MOD);
	}
	return 0;
}

/* keep queues output the kernel did not take, watches for EPOLLOUT, and
 * stops reading while the pending output is above the high watermark. */
static void keep(int fd, struct conn *c, const char *p, size_t n)
{
	int was_empty = c->out.len == 0;
	append(&c->out, p, n);
	int reading = c->reading && c->out.len < OUT_HIGH;
	if (was_empty || reading != c->reading) {
		c->reading = (unsigned char)reading;
		watch(fd, c, EPOLL_CTL_MOD);
	}
}

/* send_reply writes p at once, and keeps what the kernel does not take. */
static int send_reply(int fd, struct conn *c, const char *p, size_t n)
{
	if (c->out.len > 0) { /* earlier output is waiting: keep the order */
		keep(fd, c, p, n);
		return 0;
	}
	while (n > 0) {
		ssize_t w = write(fd, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				break;
			close_conn(fd);
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	if (n > 0)
		keep(fd, c, p, n);
	return 0;
}

/* answer appends a reply for each complete request at the start of p[:n] to
 * the batch and returns how many bytes those requests used. */
static size_t answer(const char *p, size_t n)
{
	size_t used = 0;
	for (;;) {
		const char *end = memmem(p + used, n - used, "\r\n\r\n", 4);
		if (end == NULL)
			return used;
		used = (size_t)(end - p) + 4;
		append(&batch, response, response_len);
	}
}

static void serve_http(int fd, struct conn *c, const char *p, size_t n)
{
	if (c->in.len > 0) {
		append(&c->in, p, n);
		p = c->in.p + c->in.off;
		n = c->in.len;
	}
	batch.len = 0;
	size_t used = answer(p, n);
	if (batch.len > 0 && send_reply(fd, c, batch.p, batch.len) < 0)
		return;
	size_t rest = n - used;
	if (rest > MAX_REQUEST) {
		close_conn(fd);
		return;
	}
	if (c->in.len > 0) { /* p is c->in */
		c->in.off += used;
		c->in.len = rest;
		if (rest == 0)
			c->in.off = 0;
	} else if (rest > 0) {
		append(&c->in, p + used, rest);
	}
}

static void readable(int fd, struct conn *c)
{
	ssize_t n = read(fd, readbuf, sizeof readbuf);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		close_conn(fd);
		return;
	}
	if (http)
		serve_http(fd, c, readbuf, (size_t)n);
	else
		send_reply(fd, c, readbuf, (size_t)n);
}

/* accept_ready accepts pending connections; it returns nonzero when the
 * process is out of descriptors or memory and accepting must pause. */
static int accept_ready(void)
{
	for (int i = 0; i < ACCEPT_BATCH; i++) {
		int fd = accept4(lnfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			switch (errno) {
			case EAGAIN:
			case EINTR:
			case ECONNABORTED:
				return 0;
			case EMFILE:
			case ENFILE:
			case ENOBUFS:
			case ENOMEM:
				return 1;
			}
			die("accept4");
		}
		if ((size_t)fd >= nconns) { /* cannot happen below RLIMIT_NOFILE */
			close(fd);
			continue;
		}
		int one = 1;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
		struct conn *c = &conns[fd];
		c->open = 1;
		c->reading = 1;
		watch(fd, c, EPOLL_CTL_ADD);
	}
	return 0;
}

static int listen_on(const char *addr)
{
	char host[256];
	const char *colon = strrchr(addr, ':');
	if (colon == NULL || (size_t)(colon - addr) >= sizeof host)
		usage("-addr wants host:port");
	const char *h = addr;
	size_t hl = (size_t)(colon - addr);
	if (hl >= 2 && h[0] == '[' && h[hl - 1] == ']') { /* [::1]:port */
		h++;
		hl -= 2;
	}
	memcpy(host, h, hl);
	host[hl] = 0;
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE}, *res;
	int err = getaddrinfo(hl ? host : NULL, colon + 1, &hints, &res);
	if (err != 0) {
		fprintf(stderr, "cepoll: %s: %s\n", addr, gai_strerror(err));
		exit(1);
	}
	int fd = socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		die("socket");
	int one = 1;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0)
		die("SO_REUSEADDR");
	if (bind(fd, res->ai_addr, res->ai_addrlen) < 0)
		die("bind");
	if (listen(fd, SOMAXCONN) < 0)
		die("listen");
	freeaddrinfo(res);
	return fd;
}

int main(int argc, char **argv)
{
	const char *proto = "echo", *addr = "127.0.0.1:9000";
	for (int i = 1; i < argc; i++) {
		const char *name = argv[i], *val = NULL, *eq;
		if (name[0] != '-')
			usage("unexpected argument");
		name += name[1] == '-' ? 2 : 1; /* -flag and --flag */
		char key[32];
		if ((eq = strchr(name, '=')) != NULL) {
			if ((size_t)(eq - name) >= sizeof key)
				usage("unknown flag");
			memcpy(key, name, (size_t)(eq - name));
			key[eq - name] = 0;
			name = key;
			val = eq + 1;
		} else if (i + 1 < argc) {
			val = argv[++i];
		} else {
			usage("flag needs a value");
		}
		if (strcmp(name, "proto") == 0)
			proto = val;
		else if (strcmp(name, "addr") == 0)
			addr = val;
		else if (strcmp(name, "loops") == 0 || strcmp(name, "stats") == 0)
			; /* accepted, see the top of the file */
		else
			usage("unknown flag");
	}
	if (strcmp(proto, "http") == 0)
		http = 1;
	else if (strcmp(proto, "echo") != 0)
		usage("-proto: cepoll speaks echo and http");

	struct rlimit lim;
	if (getrlimit(RLIMIT_NOFILE, &lim) < 0)
		die("getrlimit");
	if (lim.rlim_cur != lim.rlim_max) {
		lim.rlim_cur = lim.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &lim) < 0)
			die("setrlimit");
	}
	nconns = lim.rlim_cur == RLIM_INFINITY || lim.rlim_cur > (1 << 24) ? (1 << 24) : (size_t)lim.rlim_cur;
	conns = calloc(nconns, sizeof *conns); /* untouched pages cost no memory */
	if (conns == NULL)
		die("calloc");

	/* A peer that closes while a reply is written must not kill the process;
	 * nor may a stray statistics request, which cepoll does not answer. */
	signal(SIGPIPE, SIG_IGN);
	signal(SIGUSR1, SIG_IGN);
	signal(SIGUSR2, SIG_IGN);

	lnfd = listen_on(addr);
	if ((epfd = epoll_create1(EPOLL_CLOEXEC)) < 0)
		die("epoll_create1");
	struct epoll_event lev = {.events = EPOLLIN, .data.fd = lnfd};
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, lnfd, &lev) < 0)
		die("epoll_ctl listener");
	refresh_response();

	struct epoll_event events[MAX_EVENTS];
	struct timespec paused_until = {0};
	int paused = 0;
	for (;;) {
		int timeout = paused ? 5 : -1;
		int n = epoll_wait(epfd, events, MAX_EVENTS, timeout);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			die("epoll_wait");
		}
		if (http)
			refresh_response();
		if (paused) {
			struct timespec now;
			clock_gettime(CLOCK_MONOTONIC, &now);
			if (now.tv_sec > paused_until.tv_sec ||
			    (now.tv_sec == paused_until.tv_sec && now.tv_nsec >= paused_until.tv_nsec)) {
				paused = 0;
				if (epoll_ctl(epfd, EPOLL_CTL_ADD, lnfd, &lev) < 0)
					die("epoll_ctl listener");
			}
		}
		for (int i = 0; i < n; i++) {
			int fd = events[i].data.fd;
			if (fd == lnfd) {
				if (accept_ready()) {
					/* Out of descriptors: stop watching the listener for 5 ms
					 * rather than spin on it. */
					if (epoll_ctl(epfd, EPOLL_CTL_DEL, lnfd, NULL) < 0)
						die("epoll_ctl listener");
					clock_gettime(CLOCK_MONOTONIC, &paused_until);
					paused_until.tv_nsec += 5000000;
					if (paused_until.tv_nsec >= 1000000000) {
						paused_until.tv_sec++;
						paused_until.tv_nsec -= 1000000000;
					}
					paused = 1;
				}
				continue;
			}
			struct conn *c = &conns[fd];
			if (!c->open) /* closed earlier in this batch */
				continue;
			uint32_t e = events[i].events;
			if (e & EPOLLOUT) {
				if (flush(fd, c) < 0)
					continue;
			}
			if (e & (EPOLLIN | EPOLLHUP | EPOLLERR)) {
				if (c->reading || (e & (EPOLLHUP | EPOLLERR)))
					readable(fd, c);
			}
		}
	}
}
