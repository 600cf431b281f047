// The classic route after Phase 1: groups (2) -> master tiles (3) -> output grid (4) -> merge and photometric
// harmonisation (4.5) -> feathered coadd (5).
#pragma once

#include "pipeline/model/ingest_result.hpp"
#include "pipeline/model/route_result.hpp"
#include "pipeline/run_context.hpp"

namespace zm {

RouteResult run_classic(const RunContext& ctx, const RunOptions& options, const IngestResult& ingest);

}  // namespace zm
