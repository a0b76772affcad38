// Review 17d: the fourth adversarial review of issue 17's majority chooser, by machine. The explorer
// (tests/unit/review17d_explorer.h) runs the real MajorityBlockDevice and ReplicaChoice in seeded random
// worlds -- three devices of one block, one of them faulty in episodes, a writer with lives (restart,
// rejoin, undead), a reader with overlapping reads, restarts and a forgotten slot -- and checks the model's
// properties (a'), (a) strict and (b) after every read (tests/model/majority.pml, PROPERTIES).
//
// Environment (for runs by hand):
//   CASTOR_REVIEW17D_SCHEDULES=N     schedules to run (default below, a few seconds of CPU)
//   CASTOR_REVIEW17D_FIRST_SEED=S    the first seed (default 1); seeds S .. S+N-1
//   CASTOR_REVIEW17D_CPU_SECONDS=X   stop once X seconds of CPU are spent (a long run with a huge N)
//   CASTOR_REVIEW17D_KEEP_GOING=1    go on after a violation (each one's seed and what broke is printed)
//   CASTOR_REVIEW17D_SEED=S          replay seed S alone and print its whole trace
//   CASTOR_REVIEW17D_QUIET=1         print no trace, only the seed and the violation
//   CASTOR_REVIEW17D_NO_UNDEAD=1     no undead old life (a restart instead)
//   CASTOR_REVIEW17D_UNDEAD_NEVER_STOPS=1  an undead old life writes to the end (as the model's UNDEAD)
//   CASTOR_REVIEW17D_STRICT_ALL=1    (a) against every life's latest completed write fails too (by default only
//                                    against the write completed last, as the model's wdone; the others are counted)
#include <doctest/doctest.h>

#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <string>

#include "tests/unit/review17d_explorer.h"

using namespace castor;

namespace {

uint64_t env_u64(const char* name, uint64_t def) {
  const char* v = std::getenv(name);
  return v && *v ? std::strtoull(v, nullptr, 0) : def;
}

review17d::Options options() {
  review17d::Options o;
  o.undead = env_u64("CASTOR_REVIEW17D_NO_UNDEAD", 0) == 0;
  o.undead_stops = env_u64("CASTOR_REVIEW17D_UNDEAD_NEVER_STOPS", 0) == 0;
  o.strict_all = env_u64("CASTOR_REVIEW17D_STRICT_ALL", 0) != 0;
  return o;
}

double cpu_seconds() { return double(std::clock()) / CLOCKS_PER_SEC; }

void print_trace(const review17d::World& w) {
  for (const auto& line : w.trace()) std::printf("    %s\n", line.c_str());
}

}  // namespace

TEST_CASE("review17d: randomized schedules of the majority device keep (a'), (a) strict and (b)") {
  if (const char* one = std::getenv("CASTOR_REVIEW17D_SEED"); one && *one) {
    const uint64_t seed = std::strtoull(one, nullptr, 0);
    review17d::World w(seed, true, options());
    const bool ok = w.run();
    print_trace(w);
    CHECK_MESSAGE(ok, "seed " << seed << ": " << w.failure());
    return;
  }
  const uint64_t first = env_u64("CASTOR_REVIEW17D_FIRST_SEED", 1);
  const uint64_t count = env_u64("CASTOR_REVIEW17D_SCHEDULES", 3000);
  const double budget = double(env_u64("CASTOR_REVIEW17D_CPU_SECONDS", 0));
  const bool keep_going = env_u64("CASTOR_REVIEW17D_KEEP_GOING", 0) != 0;
  const bool quiet = env_u64("CASTOR_REVIEW17D_QUIET", 0) != 0;
  const double start = cpu_seconds();
  review17d::World::Stats sum;
  uint64_t runs = 0, failures = 0, first_failure = 0;
  for (uint64_t seed = first; seed < first + count; ++seed) {
    review17d::World w(seed, false, options());
    const bool ok = w.run();
    ++runs;
    const auto& s = w.stats();
    sum.events += s.events;
    sum.writes_ok += s.writes_ok;
    sum.writes_failed += s.writes_failed;
    sum.reads_ok += s.reads_ok;
    sum.reads_failed += s.reads_failed;
    sum.checks += s.checks;
    sum.life_switches += s.life_switches;
    sum.undead += s.undead;
    sum.restarts += s.restarts;
    sum.rejoins += s.rejoins;
    sum.crashes += s.crashes;
    sum.reader_restarts += s.reader_restarts;
    sum.forgets += s.forgets;
    sum.own_reads_ok += s.own_reads_ok;
    sum.invalid_outputs += s.invalid_outputs;
    sum.a_all += s.a_all;
    if (!ok) {
      if (failures++ == 0) first_failure = seed;
      std::printf("[castor] review17d: seed %llu (schedule %llu of this run): %s [%s]\n", (unsigned long long)seed,
                  (unsigned long long)runs, w.failure().c_str(), w.features().c_str());
      if (!quiet) {
        review17d::World t(seed, true, options());
        t.run();
        print_trace(t);
        std::printf("    (replay: CASTOR_REVIEW17D_SEED=%llu build/tests/unit_tests -tc='review17d: randomized*')\n",
                    (unsigned long long)seed);
      }
      std::fflush(stdout);
      if (!keep_going) break;
    }
    if (budget > 0 && cpu_seconds() - start > budget) break;
  }
  const double cpu = cpu_seconds() - start;
  std::printf("[castor] review17d: %llu schedules (seeds %llu..%llu), %.1f s CPU, %llu events; %llu writes ok, %llu "
              "failed; %llu reads ok (%llu own), %llu failed, %llu invalid outputs; %llu changes of life seen; "
              "%llu restarts, %llu rejoins, %llu undead, %llu crashes, %llu reader restarts, %llu forgets; "
              "%llu reads break (a) against an older life's latest write only; %llu violations%s%s\n",
              (unsigned long long)runs, (unsigned long long)first, (unsigned long long)(first + runs - 1), cpu,
              (unsigned long long)sum.events, (unsigned long long)sum.writes_ok,
              (unsigned long long)sum.writes_failed, (unsigned long long)sum.reads_ok,
              (unsigned long long)sum.own_reads_ok, (unsigned long long)sum.reads_failed,
              (unsigned long long)sum.invalid_outputs, (unsigned long long)sum.life_switches,
              (unsigned long long)sum.restarts, (unsigned long long)sum.rejoins, (unsigned long long)sum.undead,
              (unsigned long long)sum.crashes, (unsigned long long)sum.reader_restarts,
              (unsigned long long)sum.forgets, (unsigned long long)sum.a_all, (unsigned long long)failures, failures ? ", first at seed " : "",
              failures ? std::to_string(first_failure).c_str() : "");
  CHECK_MESSAGE(failures == 0, failures << " of " << runs << " schedules broke a property; the first at seed "
                                        << first_failure);
  // The worlds must exercise what the properties are about, or passing proves nothing.
  if (runs >= 1000) {
    CHECK(sum.life_switches > runs / 4);
    if (options().undead) CHECK(sum.undead > runs / 20);
    CHECK(sum.restarts > runs / 10);
    CHECK(sum.rejoins > runs / 20);
    CHECK(sum.reads_ok > 20 * runs);
  }
}
