// Proleptic Gregorian calendar conversions (days <-> civil date, H. Hinnant's algorithms).
#include "sim/sim_time.hpp"

#include <cstdio>
#include <fmt/format.h>

#include "core/error.hpp"

namespace zm::sim {
namespace {

constexpr std::int64_t kMicrosPerDay = 86400LL * 1000000LL;

struct Civil {
  std::int64_t year;
  int month;
  int day;
};

std::int64_t days_from_civil(std::int64_t y, int m, int d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const std::int64_t yoe = y - era * 400;
  const std::int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const std::int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

Civil civil_from_days(std::int64_t z) {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const std::int64_t doe = z - era * 146097;
  const std::int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const std::int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const std::int64_t mp = (5 * doy + 2) / 153;
  const int d = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  const int m = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  return {yoe + era * 400 + (m <= 2), m, d};
}

struct Parts {
  Civil date;
  int hour, minute, second, micros;
};

Parts split(MicrosUtc t) {
  std::int64_t days = t / kMicrosPerDay;
  std::int64_t rem = t % kMicrosPerDay;
  if (rem < 0) {
    rem += kMicrosPerDay;
    --days;
  }
  const auto secs = static_cast<int>(rem / 1000000);
  return {civil_from_days(days), secs / 3600, secs / 60 % 60, secs % 60, static_cast<int>(rem % 1000000)};
}

}  // namespace

MicrosUtc parse_utc(std::string_view text) {
  int y = 0, mo = 0, d = 0, h = 0, mi = 0;
  double s = 0.0;
  const std::string str(text);
  char tail = 0;
  const int n = std::sscanf(str.c_str(), "%4d-%2d-%2dT%2d:%2d:%lf%c", &y, &mo, &d, &h, &mi, &s, &tail);
  if (n != 6 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s < 0.0 || s >= 61.0)
    throw InputError(InputErrorKind::BadConfig, "simulate", "start time must read YYYY-MM-DDTHH:MM:SS, got '" + str + "'");
  const std::int64_t days = days_from_civil(y, mo, d);
  return days * kMicrosPerDay + (h * 3600LL + mi * 60LL) * 1000000LL + static_cast<std::int64_t>(s * 1e6 + 0.5);
}

std::string format_date_obs(MicrosUtc t) {
  const Parts p = split(t);
  return fmt::format("{:04d}-{:02d}-{:02d}T{:02d}:{:02d}:{:02d}.{:06d}", p.date.year, p.date.month, p.date.day, p.hour,
                     p.minute, p.second, p.micros);
}

std::string format_file_stamp(MicrosUtc t) {
  const Parts p = split(t);
  return fmt::format("{:04d}{:02d}{:02d}-{:02d}{:02d}{:02d}", p.date.year, p.date.month, p.date.day, p.hour, p.minute,
                     p.second);
}

}  // namespace zm::sim
