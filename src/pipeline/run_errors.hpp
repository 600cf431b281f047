// The errors a run ends or changes course with. Only RouteFailed may be turned into a fallback; everything else
// (a bad setting, an allocation failure, a disk error, a bug) stops the run with its own message.
#pragma once

#include <stdexcept>
#include <string>

#include "pipeline/model/route.hpp"

namespace zm {

// A phase cannot go on (e.g. nothing usable left); the run ends with PROCESS_ERROR carrying this message.
class PipelineError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A route could not make a mosaic for a reason of the data ("the mega-tiles share no overlap", "no frame lands on
// the grid"): the run may go on with the next route (ROUTE_FALLBACK), saying why.
class RouteFailed : public PipelineError {
 public:
  RouteFailed(Route route, const std::string& why) : PipelineError(why), route_(route) {}
  Route route() const noexcept { return route_; }

 private:
  Route route_;
};

// The run was interrupted (SIGINT/SIGTERM); completed artifacts are kept for resume.
class RunCancelled : public std::runtime_error {
 public:
  RunCancelled() : std::runtime_error("run cancelled; completed work is kept and a rerun resumes from it") {}
};

}  // namespace zm
