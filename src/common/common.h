// src/common: what every other folder leans on.
//  - errors.h     typed errors (ConfigError, InputError, ...) that carry context, the
//                 DPST_CHECK macro, and the one mapping from error type to exit code;
//  - logging.h    spdlog set up per rank (padded rank tag, level by rank, run log file);
//  - app.h        guarded_main(): exceptions -> logged message + exit code; the options
//                 every single-process tool shares;
//  - atomic_file.h the one way a file is put in place (temporary, fsync, rename, fsync),
//                 and folders made / markers removed with OutputErrors that name them;
//  - text.h       lower_case / lower_extension;
//  - build_info.h versions of dpst and of every library it was built against.
// Library code throws; only mains turn errors into exit codes.
#pragma once

#include "common/app.h"
#include "common/atomic_file.h"
#include "common/build_info.h"
#include "common/errors.h"
#include "common/logging.h"
