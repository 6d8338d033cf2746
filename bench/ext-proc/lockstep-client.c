/*
 * The latency generator of `npm run bench:ext-proc`, in C on libnghttp2 (Debian: libnghttp2-dev).
 *
 * Open loop: exchanges start on a fixed schedule (RATE per second, whatever the server's speed),
 * each driven as Envoy drives a BUFFERED request: the request-headers message, wait for its answer,
 * the body message (ending the stream), wait for its answer. A generator that starts exchanges late
 * or spends much CPU on them measures itself (a Node one started them up to 5-13 ms late, p99): this
 * one starts them within a fraction of a millisecond, on a timerfd, from one epoll loop, and reports
 * how late it was (startLag) and what it cost (cpuMsPerExchange) so that a run shows it kept up.
 *
 * Every answer is checked without a protobuf decoder: an exchange succeeds when its first answer
 * is a request_headers response and its second a request_body response (the field number of the
 * answer's first field, which every encoder writes first), the response carries gRPC status 0 and
 * the stream closes cleanly. A deny (immediate_response), a missing status, an answer over
 * MAX_ANSWER_BYTES (its stream alone is reset) and a lost connection (all its open exchanges) are
 * therefore errors, not fast successes. A lost connection is not reopened: exchanges due on it fail
 * at once.
 *
 * Usage: lockstep-client IPV4 PORT RATE SECONDS CONNECTIONS EXCHANGE_FILE
 * EXCHANGE_FILE holds the two gRPC-framed ProcessingRequest messages and nothing else.
 *
 * The first WARMUP_MS are not measured; the measured window is the SECONDS after them, and the
 * exchanges scheduled within it are the measured ones. Once the schedule ends, the client waits up
 * to DRAIN_MS for open exchanges, then prints one JSON line:
 *   offered            RATE.
 *   achieved           exchanges that completed successfully within the window, whenever they were
 *                      scheduled, per second: the rate the server kept up with (RATE or less, unless
 *                      it was clearing a backlog).
 *   samples            measured exchanges that succeeded, by the end of the drain.
 *   errors             measured exchanges that failed or had not finished by the end of the drain.
 *   service            the samples' latency percentiles, from sending the headers message to
 *                      reading the body answer, ms.
 *   startLag           how long after its slot each measured exchange was sent, ms.
 *   cpuMsPerExchange   this client's CPU time per exchange scheduled, ms.
 *   windowStartEpochMs, windowEndEpochMs   the window in wall-clock time (ms since the epoch), to
 *                      match other logs against.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <nghttp2/nghttp2.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#define WARMUP_MS 2000.0
#define DRAIN_MS 3000.0
/* An answer is a few dozen bytes; more than this for one stream is an error. */
#define MAX_ANSWER_BYTES 4096
/* The key of ProcessingResponse's request_headers (field 1) and request_body (field 3), length-delimited. */
#define REQUEST_HEADERS_KEY 0x0a
#define REQUEST_BODY_KEY 0x1a

typedef struct exchange exchange;

typedef struct {
  /* NULL once the connection is lost. */
  nghttp2_session *session;
  int fd;
  /* Whether epoll also reports writability: nghttp2 holds bytes the socket would not take. */
  int awaiting_write;
  /* Exchanges submitted here and not yet closed, to fail if the connection is lost. */
  exchange *open;
} connection;

struct exchange {
  connection *connection;
  exchange *previous, *next;
  double scheduled;
  double sent_at;
  /* When the second answer arrived; counted once the stream closes cleanly. */
  double answered_at;
  /* 0: the headers message is being sent; 1: the body message, once the first answer is in. */
  int stage;
  size_t sent;
  uint8_t pending[MAX_ANSWER_BYTES];
  size_t pending_length;
  int answers;
  /* A gRPC status other than 0, an answer of the wrong kind, or one too large. */
  int wrong;
  /* The stream was reset for an answer too large: what else arrives on it is ignored. */
  int reset;
  int status_zero;
};

static const uint8_t *headers_message, *body_message;
static size_t headers_length, body_length;
static int poll_fd;
static double measure_from, measure_to;
/* Service latencies and start lags of measured exchanges. */
static double *service, *lags;
static size_t service_count, lag_count, capacity;
/* Every exchange scheduled, and those that ended either way: the drain waits for the one to reach the other. */
static long started, ended;
static long measured, completed_in_window;

static double clock_ms(clockid_t clock) {
  struct timespec ts;
  clock_gettime(clock, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static double now_ms(void) { return clock_ms(CLOCK_MONOTONIC); }

static void fail(const char *format, ...) {
  va_list arguments;
  va_start(arguments, format);
  fputs("lockstep-client: ", stderr);
  vfprintf(stderr, format, arguments);
  fputc('\n', stderr);
  va_end(arguments);
  exit(1);
}

/* For a failed system call, which set errno. */
static void die(const char *what) { fail("%s: %s", what, strerror(errno)); }

static void *allocate(size_t count, size_t size) {
  void *memory = calloc(count, size);
  if (memory == NULL) fail("out of memory (%zu x %zu bytes)", count, size);
  return memory;
}

static ssize_t on_send(nghttp2_session *session, const uint8_t *data, size_t length, int flags, void *user) {
  (void)session;
  (void)flags;
  /* MSG_NOSIGNAL: a peer that closed the connection makes this fail with EPIPE instead of killing the client. */
  ssize_t written = send(((connection *)user)->fd, data, length, MSG_NOSIGNAL);
  if (written < 0) return errno == EAGAIN || errno == EWOULDBLOCK ? NGHTTP2_ERR_WOULDBLOCK : NGHTTP2_ERR_CALLBACK_FAILURE;
  return written;
}

/* The request body: the headers message at once, the body message only after the first answer. */
static ssize_t on_read(nghttp2_session *session, int32_t id, uint8_t *buffer, size_t length, uint32_t *flags,
                       nghttp2_data_source *source, void *user) {
  (void)session;
  (void)id;
  (void)user;
  exchange *x = source->ptr;
  if (x->stage == 1 && x->answers < 1) return NGHTTP2_ERR_DEFERRED;
  const uint8_t *message = x->stage == 0 ? headers_message : body_message;
  size_t total = x->stage == 0 ? headers_length : body_length;
  size_t n = total - x->sent < length ? total - x->sent : length;
  memcpy(buffer, message + x->sent, n);
  x->sent += n;
  if (x->sent == total) {
    if (x->stage == 0) {
      x->stage = 1;
      x->sent = 0;
    } else {
      *flags |= NGHTTP2_DATA_FLAG_EOF;
    }
  }
  return (ssize_t)n;
}

/* Counts complete gRPC messages; the first releases the body, the second ends the exchange. */
static int on_data(nghttp2_session *session, uint8_t flags, int32_t id, const uint8_t *data, size_t length, void *user) {
  (void)flags;
  (void)user;
  exchange *x = nghttp2_session_get_stream_user_data(session, id);
  if (x == NULL || x->reset) return 0;
  if (x->pending_length + length > MAX_ANSWER_BYTES) {
    /* Failing the callback would end the connection and every exchange on it: reset this stream alone. */
    x->wrong = 1;
    x->reset = 1;
    return nghttp2_submit_rst_stream(session, NGHTTP2_FLAG_NONE, id, NGHTTP2_CANCEL) == 0 ? 0 : NGHTTP2_ERR_CALLBACK_FAILURE;
  }
  memcpy(x->pending + x->pending_length, data, length);
  x->pending_length += length;
  while (x->pending_length >= 5) {
    uint32_t size = (uint32_t)x->pending[1] << 24 | (uint32_t)x->pending[2] << 16 | (uint32_t)x->pending[3] << 8 | x->pending[4];
    if (x->pending_length < 5 + (size_t)size) break;
    int expected = x->answers == 0 ? REQUEST_HEADERS_KEY : REQUEST_BODY_KEY;
    if (size == 0 || x->pending[5] != expected) x->wrong = 1;
    memmove(x->pending, x->pending + 5 + size, x->pending_length - 5 - size);
    x->pending_length -= 5 + size;
    x->answers++;
    if (x->answers == 1) {
      /* Fails, harmlessly, when on_read has not deferred the body yet: it will then send it at once. */
      nghttp2_session_resume_data(session, id);
    } else if (x->answers == 2) {
      x->answered_at = now_ms();
    }
  }
  return 0;
}

/* grpc-status comes in the trailers, or in the headers of a trailers-only response. */
static int on_header(nghttp2_session *session, const nghttp2_frame *frame, const uint8_t *name, size_t name_length,
                     const uint8_t *value, size_t value_length, uint8_t flags, void *user) {
  (void)flags;
  (void)user;
  exchange *x = nghttp2_session_get_stream_user_data(session, frame->hd.stream_id);
  if (x == NULL || name_length != 11 || memcmp(name, "grpc-status", 11) != 0) return 0;
  if (value_length == 1 && value[0] == '0') {
    x->status_zero = 1;
  } else {
    x->wrong = 1;
  }
  return 0;
}

/* Counts an exchange that ended, well or not, and forgets it. */
static void finish(exchange *x, int succeeded) {
  double at = now_ms();
  connection *c = x->connection;
  if (x->previous != NULL) {
    x->previous->next = x->next;
  } else {
    c->open = x->next;
  }
  if (x->next != NULL) x->next->previous = x->previous;
  ended++;
  if (succeeded) {
    if (at >= measure_from && at <= measure_to) completed_in_window++;
    if (x->scheduled >= measure_from && service_count < capacity) service[service_count++] = x->answered_at - x->sent_at;
  }
  free(x);
}

static int on_close(nghttp2_session *session, int32_t id, uint32_t error, void *user) {
  (void)user;
  exchange *x = nghttp2_session_get_stream_user_data(session, id);
  if (x != NULL) finish(x, x->answers == 2 && !x->wrong && x->status_zero && error == NGHTTP2_NO_ERROR);
  return 0;
}

static void watch(connection *c, int operation, int writable) {
  struct epoll_event event = {.events = EPOLLIN | (writable ? EPOLLOUT : 0), .data.ptr = c};
  if (epoll_ctl(poll_fd, operation, c->fd, &event) < 0) die("epoll_ctl");
  c->awaiting_write = writable;
}

/* The peer closed the connection, the socket failed, or nghttp2 gave up on the session. */
static void lose(connection *c) {
  while (c->open != NULL) finish(c->open, 0);
  if (epoll_ctl(poll_fd, EPOLL_CTL_DEL, c->fd, NULL) < 0) die("epoll_ctl");
  close(c->fd);
  nghttp2_session_del(c->session);
  c->session = NULL;
}

/* Hands nghttp2's frames to the socket, and watches for writability only while the socket is full. */
static void flush(connection *c) {
  if (nghttp2_session_send(c->session) != 0) {
    lose(c);
    return;
  }
  int want_write = nghttp2_session_want_write(c->session);
  if (!want_write && !nghttp2_session_want_read(c->session)) {
    /* Done with: the server sent GOAWAY and no stream is left. */
    lose(c);
  } else if (want_write != c->awaiting_write) {
    watch(c, EPOLL_CTL_MOD, want_write);
  }
}

static void receive(connection *c) {
  uint8_t buffer[65536];
  for (;;) {
    ssize_t got = read(c->fd, buffer, sizeof buffer);
    if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
    if (got < 0 && errno == EINTR) continue;
    /* 0: the server closed the connection; epoll would report that end forever. */
    if (got <= 0 || nghttp2_session_mem_recv(c->session, buffer, (size_t)got) != got) {
      lose(c);
      return;
    }
  }
  flush(c);
}

#define HEADER(n, v) {(uint8_t *)(n), (uint8_t *)(v), sizeof(n) - 1, sizeof(v) - 1, NGHTTP2_NV_FLAG_NONE}
static const nghttp2_nv request_headers[] = {
    HEADER(":method", "POST"), HEADER(":scheme", "http"), HEADER(":path", "/envoy.service.ext_proc.v3.ExternalProcessor/Process"),
    HEADER(":authority", "meshrasp"), HEADER("content-type", "application/grpc"), HEADER("te", "trailers")};

static void start_exchange(connection *c, double slot) {
  started++;
  if (slot >= measure_from) measured++;
  if (c->session == NULL) {
    ended++;
    return;
  }
  exchange *x = allocate(1, sizeof *x);
  x->connection = c;
  x->scheduled = slot;
  nghttp2_data_provider body = {.source.ptr = x, .read_callback = on_read};
  if (nghttp2_submit_request(c->session, NULL, request_headers, sizeof request_headers / sizeof request_headers[0], &body, x) < 0) {
    free(x);
    ended++;
    return;
  }
  x->next = c->open;
  if (c->open != NULL) c->open->previous = x;
  c->open = x;
  x->sent_at = now_ms();
  if (slot >= measure_from && lag_count < capacity) lags[lag_count++] = x->sent_at - slot;
  flush(c);
}

static int ascending(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static double quantile(const double *sorted, size_t n, double q) {
  return n == 0 ? -1 : sorted[(size_t)(q * (double)(n - 1) + 0.5)];
}

static size_t frame_length(const uint8_t *frame) {
  return 5 + ((size_t)frame[1] << 24 | (size_t)frame[2] << 16 | (size_t)frame[3] << 8 | frame[4]);
}

static void read_exchange(const char *path) {
  static uint8_t bytes[1 << 20];
  FILE *file = fopen(path, "rb");
  if (file == NULL) die(path);
  size_t length = fread(bytes, 1, sizeof bytes, file);
  if (ferror(file)) die(path);
  int larger = length == sizeof bytes && fgetc(file) != EOF;
  fclose(file);
  if (larger) fail("%s: larger than the %zu bytes an exchange file may hold", path, sizeof bytes);
  if (length < 5) fail("%s: too short for a gRPC frame (%zu bytes)", path, length);
  headers_length = frame_length(bytes);
  if (headers_length + 5 > length) fail("%s: expected two gRPC frames, found at most one", path);
  body_length = frame_length(bytes + headers_length);
  if (headers_length + body_length != length)
    fail("%s: expected exactly two gRPC frames, but their lengths (%zu + %zu bytes) differ from the file's (%zu bytes)", path,
         headers_length, body_length, length);
  headers_message = bytes;
  body_message = bytes + headers_length;
}

static void schedule(int timer, double at_ms) {
  struct itimerspec when = {0};
  when.it_value.tv_sec = (time_t)(at_ms / 1000);
  when.it_value.tv_nsec = (long)((at_ms - (double)when.it_value.tv_sec * 1000) * 1e6);
  if (when.it_value.tv_sec == 0 && when.it_value.tv_nsec <= 0) when.it_value.tv_nsec = 1;
  if (timerfd_settime(timer, TFD_TIMER_ABSTIME, &when, NULL) < 0) die("timerfd_settime");
}

static void open_connection(connection *c, const struct sockaddr_in *address, const nghttp2_session_callbacks *callbacks) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) die("socket");
  if (connect(fd, (const struct sockaddr *)address, sizeof *address) < 0) die("connect");
  int on = 1;
  if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on) < 0) die("setsockopt TCP_NODELAY");
  int flags = fcntl(fd, F_GETFL);
  if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) die("fcntl O_NONBLOCK");
  c->fd = fd;
  int rv = nghttp2_session_client_new(&c->session, callbacks, c);
  if (rv != 0) fail("nghttp2_session_client_new: %s", nghttp2_strerror(rv));
  rv = nghttp2_submit_settings(c->session, NGHTTP2_FLAG_NONE, NULL, 0);
  if (rv != 0) fail("nghttp2_submit_settings: %s", nghttp2_strerror(rv));
  watch(c, EPOLL_CTL_ADD, 0);
  flush(c);
}

int main(int argc, char **argv) {
  if (argc != 7) {
    fprintf(stderr, "usage: lockstep-client IPV4 PORT RATE SECONDS CONNECTIONS EXCHANGE_FILE\n");
    return 2;
  }
  double rate = atof(argv[3]), seconds = atof(argv[4]);
  int connections = atoi(argv[5]);
  if (rate <= 0 || seconds <= 0 || connections <= 0) {
    fprintf(stderr, "lockstep-client: RATE, SECONDS and CONNECTIONS must be positive\n");
    return 2;
  }
  struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[2]))};
  if (inet_pton(AF_INET, argv[1], &address.sin_addr) != 1) {
    fprintf(stderr, "lockstep-client: %s is not an IPv4 address\n", argv[1]);
    return 2;
  }
  read_exchange(argv[6]);
  /* The measured exchanges, with room for rounding at the window's edges. */
  capacity = (size_t)(rate * seconds) + 16;
  service = allocate(capacity, sizeof(double));
  lags = allocate(capacity, sizeof(double));

  nghttp2_session_callbacks *callbacks;
  if (nghttp2_session_callbacks_new(&callbacks) != 0) fail("out of memory (nghttp2 callbacks)");
  nghttp2_session_callbacks_set_send_callback(callbacks, on_send);
  nghttp2_session_callbacks_set_on_data_chunk_recv_callback(callbacks, on_data);
  nghttp2_session_callbacks_set_on_header_callback(callbacks, on_header);
  nghttp2_session_callbacks_set_on_stream_close_callback(callbacks, on_close);

  poll_fd = epoll_create1(0);
  if (poll_fd < 0) die("epoll_create1");
  connection *pool = allocate((size_t)connections, sizeof(connection));
  for (int i = 0; i < connections; i++) open_connection(&pool[i], &address, callbacks);
  int timer = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK);
  if (timer < 0) die("timerfd_create");
  struct epoll_event timer_event = {.events = EPOLLIN, .data.ptr = NULL};
  if (epoll_ctl(poll_fd, EPOLL_CTL_ADD, timer, &timer_event) < 0) die("epoll_ctl");

  struct rusage before;
  if (getrusage(RUSAGE_SELF, &before) < 0) die("getrusage");
  double interval = 1000.0 / rate, begin = now_ms() + 100;
  double epoch_offset = clock_ms(CLOCK_REALTIME) - now_ms();
  measure_from = begin + WARMUP_MS;
  measure_to = measure_from + seconds * 1000;
  double drain_until = 0;
  int scheduling = 1;
  for (;;) {
    double now = now_ms();
    if (scheduling) {
      /* Catches up every slot already due; each exchange's lag is taken when it is sent. */
      for (double slot = begin + (double)started * interval; slot <= now; slot = begin + (double)started * interval) {
        if (slot >= measure_to) {
          scheduling = 0;
          drain_until = now + DRAIN_MS;
          break;
        }
        start_exchange(&pool[started % connections], slot);
      }
      if (scheduling) schedule(timer, begin + (double)started * interval);
    }
    if (!scheduling && (ended >= started || now > drain_until)) break;
    struct epoll_event events[64];
    int ready = epoll_wait(poll_fd, events, 64, scheduling ? -1 : (int)(drain_until - now) + 1);
    if (ready < 0 && errno != EINTR) die("epoll_wait");
    for (int i = 0; i < ready; i++) {
      connection *c = events[i].data.ptr;
      if (c == NULL) {
        uint64_t expirations;
        if (read(timer, &expirations, sizeof expirations) < 0 && errno != EAGAIN) die("timerfd read");
      } else if (c->session != NULL) {
        receive(c);
      }
    }
  }
  struct rusage after;
  if (getrusage(RUSAGE_SELF, &after) < 0) die("getrusage");
  double cpu_ms = (double)(after.ru_utime.tv_sec - before.ru_utime.tv_sec + after.ru_stime.tv_sec - before.ru_stime.tv_sec) * 1e3 +
                  (double)(after.ru_utime.tv_usec - before.ru_utime.tv_usec + after.ru_stime.tv_usec - before.ru_stime.tv_usec) / 1e3;
  qsort(service, service_count, sizeof(double), ascending);
  qsort(lags, lag_count, sizeof(double), ascending);
  printf("{\"offered\":%.0f,\"achieved\":%.1f,\"samples\":%zu,\"errors\":%ld,"
         "\"service\":{\"p50\":%.3f,\"p90\":%.3f,\"p99\":%.3f,\"p999\":%.3f,\"max\":%.3f},"
         "\"startLag\":{\"p50\":%.3f,\"p99\":%.3f},\"cpuMsPerExchange\":%.4f,"
         "\"windowStartEpochMs\":%.0f,\"windowEndEpochMs\":%.0f}\n",
         rate, (double)completed_in_window / seconds, service_count, measured - (long)service_count,
         quantile(service, service_count, .5), quantile(service, service_count, .9), quantile(service, service_count, .99),
         quantile(service, service_count, .999), service_count ? service[service_count - 1] : -1,
         quantile(lags, lag_count, .5), quantile(lags, lag_count, .99), cpu_ms / (double)(started ? started : 1),
         measure_from + epoch_offset, measure_to + epoch_offset);
  return 0;
}
