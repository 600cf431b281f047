// UTC timestamps of simulated exposures: parsing the start time, DATE-OBS text and Seestar-style file stamps.
// Times are whole microseconds since 1970-01-01 (integers, so the text never depends on float rounding).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace zm::sim {

using MicrosUtc = std::int64_t;

// "YYYY-MM-DDTHH:MM:SS" (optionally with fractional seconds). Throws InputError(BadConfig) when malformed.
MicrosUtc parse_utc(std::string_view text);
// "YYYY-MM-DDTHH:MM:SS.ffffff", the form Seestar writes in DATE-OBS.
std::string format_date_obs(MicrosUtc t);
// "YYYYMMDD-HHMMSS", the stamp in Seestar file names (seconds truncated).
std::string format_file_stamp(MicrosUtc t);

}  // namespace zm::sim
