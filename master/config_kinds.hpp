#pragma once
// The kinds this master runs, as the config loader sees them: every
// registered scheduler type (schedulers/scheduler_types.cpp), step type
// (process/steps/step_types.cpp), change source type
// (changes/change_source_types.cpp), reporter type
// (reporters/reporter_types.cpp) and lock access mode (locks/lock.cpp).
// Pass it to loadMasterConfig / parseMasterConfig.
#include "config/config_kinds.hpp"

namespace bb {

const ConfigKinds& masterConfigKinds();

}  // namespace bb
