/*
 * The latency generator of `npm run bench:ext-proc`, in C on libnghttp2 (Debian: libnghttp2-dev).
 *
 * Open loop: exchanges start on a fixed schedule (RATE per second, whatever the server's speed),
 * each driven as Envoy drives a BUFFERED request: the request-headers message, wait for its answer,
 * the body message (ending the stream), wait for its answer. The Node generator
 * (open-loop-client.ts) costs 0.2-0.6 ms of CPU per exchange and starts exchanges up to 5-13 ms
 * late (p99) on this kind of machine, which is most of what it would measure; this one starts them
 * within a fraction of a millisecond, on a timerfd, from one epoll loop.
 *
 * Every answer is checked without a protobuf decoder: an exchange succeeds when its first answer
 * is a request_headers response and its second a request_body response (the field number of the
 * answer's first field, which every encoder writes first) and the trailers carry gRPC status 0. A
 * deny (immediate_response) is therefore an error, not a fast success.
 *
 * Usage: lockstep-client IPV4 PORT RATE SECONDS CONNECTIONS EXCHANGE_FILE
 * EXCHANGE_FILE holds the two gRPC-framed ProcessingRequest messages. Prints one JSON line with the
 * fields open-loop-client.ts prints. The first WARMUP_MS are not measured.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <nghttp2/nghttp2.h>
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

typedef struct {
  nghttp2_session *session;
  int fd;
} connection;

typedef struct {
  double sent_at;
  double scheduled;
  /* When the second answer arrived; counted once the stream closes cleanly. */
  double answered_at;
  /* 0: the headers message is being sent; 1: the body message, once the first answer is in. */
  int stage;
  size_t sent;
  uint8_t pending[MAX_ANSWER_BYTES];
  size_t pending_length;
  int answers;
  /* A gRPC status other than 0, or an answer of the wrong kind. */
  int wrong;
} exchange;

static const uint8_t *headers_message, *body_message;
static size_t headers_length, body_length;
static double *service, *lags;
static size_t service_count, lag_count, capacity;
static long started, finished, failed;
static double measure_from;

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void die(const char *what) {
  fprintf(stderr, "lockstep-client: %s: %s\n", what, strerror(errno));
  exit(1);
}

static ssize_t on_send(nghttp2_session *session, const uint8_t *data, size_t length, int flags, void *user) {
  (void)session;
  (void)flags;
  ssize_t written = write(((connection *)user)->fd, data, length);
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
  if (x == NULL) return 0;
  if (x->pending_length + length > MAX_ANSWER_BYTES) return NGHTTP2_ERR_CALLBACK_FAILURE;
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
      nghttp2_session_resume_data(session, id);
    } else if (x->answers == 2) {
      x->answered_at = now_ms();
    }
  }
  return 0;
}

static int on_header(nghttp2_session *session, const nghttp2_frame *frame, const uint8_t *name, size_t name_length,
                     const uint8_t *value, size_t value_length, uint8_t flags, void *user) {
  (void)flags;
  (void)user;
  exchange *x = nghttp2_session_get_stream_user_data(session, frame->hd.stream_id);
  if (x != NULL && name_length == 11 && memcmp(name, "grpc-status", 11) == 0 && !(value_length == 1 && value[0] == '0')) x->wrong = 1;
  return 0;
}

static int on_close(nghttp2_session *session, int32_t id, uint32_t error, void *user) {
  (void)user;
  exchange *x = nghttp2_session_get_stream_user_data(session, id);
  if (x == NULL) return 0;
  if (x->answers == 2 && !x->wrong && error == NGHTTP2_NO_ERROR) {
    finished++;
    if (x->scheduled >= measure_from && service_count < capacity) service[service_count++] = x->answered_at - x->sent_at;
  } else {
    failed++;
  }
  free(x);
  return 0;
}

static int ascending(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

static double quantile(const double *sorted, size_t n, double q) {
  return n == 0 ? -1 : sorted[(size_t)(q * (double)(n - 1) + 0.5)];
}

static void read_exchange(const char *path) {
  FILE *file = fopen(path, "rb");
  if (file == NULL) die(path);
  static uint8_t bytes[1 << 20];
  size_t length = fread(bytes, 1, sizeof bytes, file);
  fclose(file);
  if (length < 5) die("exchange file: too short");
  headers_length = 5 + ((size_t)bytes[1] << 24 | (size_t)bytes[2] << 16 | (size_t)bytes[3] << 8 | bytes[4]);
  if (headers_length + 5 > length) die("exchange file: expected two gRPC frames");
  headers_message = bytes;
  body_message = bytes + headers_length;
  body_length = length - headers_length;
}

static void schedule(int timer, double at_ms) {
  struct itimerspec when = {0};
  when.it_value.tv_sec = (time_t)(at_ms / 1000);
  when.it_value.tv_nsec = (long)((at_ms - (double)when.it_value.tv_sec * 1000) * 1e6);
  if (when.it_value.tv_sec == 0 && when.it_value.tv_nsec <= 0) when.it_value.tv_nsec = 1;
  if (timerfd_settime(timer, TFD_TIMER_ABSTIME, &when, NULL) < 0) die("timerfd_settime");
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
  read_exchange(argv[6]);
  capacity = (size_t)(rate * (seconds + WARMUP_MS / 1000) * 1.2) + 1000;
  service = malloc(capacity * sizeof(double));
  lags = malloc(capacity * sizeof(double));

  nghttp2_session_callbacks *callbacks;
  nghttp2_session_callbacks_new(&callbacks);
  nghttp2_session_callbacks_set_send_callback(callbacks, on_send);
  nghttp2_session_callbacks_set_on_data_chunk_recv_callback(callbacks, on_data);
  nghttp2_session_callbacks_set_on_header_callback(callbacks, on_header);
  nghttp2_session_callbacks_set_on_stream_close_callback(callbacks, on_close);

  int poll = epoll_create1(0);
  connection *pool = calloc((size_t)connections, sizeof(connection));
  struct sockaddr_in address = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[2]))};
  if (inet_pton(AF_INET, argv[1], &address.sin_addr) != 1) {
    fprintf(stderr, "lockstep-client: %s is not an IPv4 address\n", argv[1]);
    return 2;
  }
  for (int i = 0; i < connections; i++) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&address, sizeof address) < 0) die("connect");
    int on = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
    fcntl(fd, F_SETFL, O_NONBLOCK);
    pool[i].fd = fd;
    nghttp2_session_client_new(&pool[i].session, callbacks, &pool[i]);
    nghttp2_submit_settings(pool[i].session, NGHTTP2_FLAG_NONE, NULL, 0);
    nghttp2_session_send(pool[i].session);
    struct epoll_event event = {.events = EPOLLIN, .data.ptr = &pool[i]};
    epoll_ctl(poll, EPOLL_CTL_ADD, fd, &event);
  }
  int timer = timerfd_create(CLOCK_MONOTONIC, 0);
  struct epoll_event timer_event = {.events = EPOLLIN, .data.ptr = NULL};
  epoll_ctl(poll, EPOLL_CTL_ADD, timer, &timer_event);

  static const char path[] = "/envoy.service.ext_proc.v3.ExternalProcessor/Process";
#define HEADER(n, v) {(uint8_t *)(n), (uint8_t *)(v), sizeof(n) - 1, sizeof(v) - 1, NGHTTP2_NV_FLAG_NONE}
  nghttp2_nv headers[] = {HEADER(":method", "POST"), HEADER(":scheme", "http"), HEADER(":path", path),
                          HEADER(":authority", "meshrasp"), HEADER("content-type", "application/grpc"), HEADER("te", "trailers")};

  struct rusage before;
  getrusage(RUSAGE_SELF, &before);
  double interval = 1000.0 / rate, begin = now_ms() + 100;
  measure_from = begin + WARMUP_MS;
  double end = measure_from + seconds * 1000, drain_until = 0;
  int scheduling = 1;
  for (;;) {
    double now = now_ms();
    if (scheduling) {
      for (double slot = begin + (double)started * interval; slot <= now; slot = begin + (double)started * interval) {
        if (slot >= end) {
          scheduling = 0;
          drain_until = now + DRAIN_MS;
          break;
        }
        if (slot >= measure_from && lag_count < capacity) lags[lag_count++] = now - slot;
        connection *c = &pool[started % connections];
        exchange *x = calloc(1, sizeof *x);
        x->sent_at = now_ms();
        x->scheduled = slot;
        nghttp2_data_provider body = {.source.ptr = x, .read_callback = on_read};
        if (nghttp2_submit_request(c->session, NULL, headers, sizeof headers / sizeof headers[0], &body, x) < 0) {
          free(x);
          failed++;
        }
        nghttp2_session_send(c->session);
        started++;
      }
      if (scheduling) schedule(timer, begin + (double)started * interval);
    } else if (finished + failed >= started || now > drain_until) {
      break;
    }
    struct epoll_event events[64];
    int ready = epoll_wait(poll, events, 64, scheduling ? -1 : 10);
    for (int i = 0; i < ready; i++) {
      if (events[i].data.ptr == NULL) {
        uint64_t expirations;
        if (read(timer, &expirations, sizeof expirations) < 0 && errno != EAGAIN) die("timerfd read");
        continue;
      }
      connection *c = events[i].data.ptr;
      uint8_t buffer[65536];
      for (;;) {
        ssize_t got = read(c->fd, buffer, sizeof buffer);
        if (got <= 0) break;
        if (nghttp2_session_mem_recv(c->session, buffer, (size_t)got) < 0) break;
      }
      nghttp2_session_send(c->session);
    }
  }
  struct rusage after;
  getrusage(RUSAGE_SELF, &after);
  double cpu_ms = (double)(after.ru_utime.tv_sec - before.ru_utime.tv_sec + after.ru_stime.tv_sec - before.ru_stime.tv_sec) * 1e3 +
                  (double)(after.ru_utime.tv_usec - before.ru_utime.tv_usec + after.ru_stime.tv_usec - before.ru_stime.tv_usec) / 1e3;
  qsort(service, service_count, sizeof(double), ascending);
  qsort(lags, lag_count, sizeof(double), ascending);
  printf("{\"offered\":%.0f,\"achieved\":%.1f,\"samples\":%zu,\"errors\":%ld,"
         "\"service\":{\"p50\":%.3f,\"p90\":%.3f,\"p99\":%.3f,\"p999\":%.3f,\"max\":%.3f},"
         "\"startLag\":{\"p50\":%.3f,\"p99\":%.3f},\"cpuMsPerExchange\":%.4f}\n",
         rate, (double)service_count / seconds, service_count, started - finished,
         quantile(service, service_count, .5), quantile(service, service_count, .9), quantile(service, service_count, .99),
         quantile(service, service_count, .999), service_count ? service[service_count - 1] : -1,
         quantile(lags, lag_count, .5), quantile(lags, lag_count, .99), cpu_ms / (double)(started ? started : 1));
  return 0;
}
