// EventLoop with real descriptors: a pipe, the CLOCK_BOOTTIME timer, a blocked signal.
#include <doctest/doctest.h>

#include <pthread.h>
#include <signal.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <chrono>

#include "common/event_loop.h"

using namespace castor;
using namespace std::chrono_literals;

namespace {

sigset_t no_signals() {
  sigset_t s;
  sigemptyset(&s);
  return s;
}

bool has_key(std::span<const EventLoop::Ready> r, uint64_t key) {
  for (const auto& x : r)
    if (x.key == key) return true;
  return false;
}

}  // namespace

TEST_CASE("event loop: a pipe with data is reported under its key, and no longer once removed") {
  auto loop = EventLoop::create(no_signals());
  REQUIRE(loop.ok());
  int p[2];
  REQUIRE(::pipe(p) == 0);
  UniqueFd rd(p[0]), wr(p[1]);
  REQUIRE(loop->add_fd(rd.get(), EPOLLIN, 42).ok());

  auto idle = loop->wait(Duration(0));
  REQUIRE(idle.ok());
  CHECK(idle->empty());

  REQUIRE(::write(wr.get(), "x", 1) == 1);
  auto ready = loop->wait(1000ms);
  REQUIRE(ready.ok());
  REQUIRE(ready->size() == 1);
  CHECK((*ready)[0].key == 42);
  CHECK(((*ready)[0].events & EPOLLIN) != 0);

  REQUIRE(loop->remove_fd(rd.get()).ok());
  auto after = loop->wait(Duration(0));
  REQUIRE(after.ok());
  CHECK(after->empty());
}

TEST_CASE("event loop: errors name the syscall that failed") {
  auto loop = EventLoop::create(no_signals());
  REQUIRE(loop.ok());
  Status st = loop->add_fd(-1, EPOLLIN, 1);
  CHECK_FALSE(st.ok());
  CHECK(st.message().find("epoll_ctl ADD") != std::string::npos);
  st = loop->remove_fd(12345);
  CHECK_FALSE(st.ok());
  CHECK(st.message().find("epoll_ctl DEL") != std::string::npos);
  int p[2];
  REQUIRE(::pipe(p) == 0);
  UniqueFd rd(p[0]), wr(p[1]);
  CHECK(loop->add_fd(rd.get(), EPOLLIN, EventLoop::kTimerKey).code() == Code::invalid_argument);
}

TEST_CASE("event loop: the timer fires at its absolute CLOCK_BOOTTIME deadline, not before") {
  auto loop = EventLoop::create(no_signals());
  REQUIRE(loop.ok());
  BootClock clock;
  const TimePoint deadline = clock.now() + 60ms;
  REQUIRE(loop->arm_timer(deadline).ok());
  std::vector<EventLoop::Ready> ready;
  while (ready.empty()) {
    auto r = loop->wait(2000ms);
    REQUIRE(r.ok());
    ready.assign(r->begin(), r->end());
    if (ready.empty()) REQUIRE(clock.now() < deadline + 2000ms);
  }
  CHECK(clock.now() >= deadline);
  CHECK(has_key(ready, EventLoop::kTimerKey));
  // Drained by wait(): it does not fire again until re-armed.
  auto again = loop->wait(Duration(0));
  REQUIRE(again.ok());
  CHECK(again->empty());

  // A deadline in the past fires at once; a disarmed timer never does.
  REQUIRE(loop->arm_timer(clock.now() - 1s).ok());
  auto past = loop->wait(1000ms);
  REQUIRE(past.ok());
  CHECK(has_key(*past, EventLoop::kTimerKey));
  REQUIRE(loop->arm_timer(clock.now() + 30ms).ok());
  REQUIRE(loop->disarm_timer().ok());
  auto none = loop->wait(80ms);
  REQUIRE(none.ok());
  CHECK(none->empty());
}

TEST_CASE("event loop: a blocked signal arrives through the signalfd as its number and sender") {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGUSR2);
  sigset_t old;
  REQUIRE(pthread_sigmask(SIG_BLOCK, &set, &old) == 0);
  {
    auto loop = EventLoop::create(set);
    REQUIRE(loop.ok());
    auto none = loop->read_signals();
    REQUIRE(none.ok());
    CHECK(none->empty());

    REQUIRE(::raise(SIGUSR2) == 0);
    auto ready = loop->wait(1000ms);
    REQUIRE(ready.ok());
    CHECK(has_key(*ready, EventLoop::kSignalKey));
    auto sigs = loop->read_signals();
    REQUIRE(sigs.ok());
    REQUIRE(sigs->size() == 1);
    CHECK((*sigs)[0].signo == SIGUSR2);
    CHECK((*sigs)[0].pid == ::getpid());
    auto drained = loop->wait(Duration(0));
    REQUIRE(drained.ok());
    CHECK_FALSE(has_key(*drained, EventLoop::kSignalKey));
  }
  REQUIRE(pthread_sigmask(SIG_SETMASK, &old, nullptr) == 0);
}

// wait() reports into the loop's own buffer (no allocation per turn on a daemon's loop): every turn's
// list is in the same storage, and holds that turn's events only (the buffer is emptied, not appended to).
TEST_CASE("event loop: every turn reports only its own events, in the loop's one reused buffer") {
  auto loop = EventLoop::create(no_signals());
  REQUIRE(loop.ok());
  int p1[2], p2[2];
  REQUIRE(::pipe(p1) == 0);
  UniqueFd rd1(p1[0]), wr1(p1[1]);
  REQUIRE(::pipe(p2) == 0);
  UniqueFd rd2(p2[0]), wr2(p2[1]);
  REQUIRE(loop->add_fd(rd1.get(), EPOLLIN, 1).ok());
  REQUIRE(loop->add_fd(rd2.get(), EPOLLIN, 2).ok());
  REQUIRE(::write(wr1.get(), "x", 1) == 1);
  REQUIRE(::write(wr2.get(), "y", 1) == 1);

  auto both = loop->wait(1000ms);
  REQUIRE(both.ok());
  REQUIRE(both->size() == 2);
  CHECK(has_key(*both, 1));
  CHECK(has_key(*both, 2));
  const EventLoop::Ready* storage = both->data();

  char c;
  REQUIRE(::read(rd1.get(), &c, 1) == 1);
  auto one = loop->wait(1000ms);
  REQUIRE(one.ok());
  REQUIRE(one->size() == 1);
  CHECK((*one)[0].key == 2);
  CHECK(one->data() == storage);

  REQUIRE(::read(rd2.get(), &c, 1) == 1);
  for (int turn = 0; turn < 100; ++turn) {
    auto idle = loop->wait(Duration(0));
    REQUIRE(idle.ok());
    CHECK(idle->empty());
    CHECK(idle->data() == storage);
  }
  REQUIRE(::write(wr1.get(), "z", 1) == 1);
  auto again = loop->wait(1000ms);
  REQUIRE(again.ok());
  REQUIRE(again->size() == 1);
  CHECK((*again)[0].key == 1);
  CHECK(again->data() == storage);
}
