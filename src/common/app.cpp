#include "common/app.h"

#include <iostream>

#include "common/errors.h"
#include "common/logging.h"

namespace dpst {

int guarded_main(const std::function<int()>& body) {
  try {
    return body();
  } catch (const ConfigError& e) {
    if (logging::rank() == 0) std::cerr << "error: " << e.what() << std::endl;
    return e.exit_code();
  } catch (const Error& e) {
    spdlog::error("{}", e.what());
    if (!e.where().empty()) spdlog::debug("raised at {}", e.where());
    return e.exit_code();
  } catch (const std::exception& e) {
    spdlog::critical("internal error: {}", e.what());
    return kExitInternal;
  }
}

}  // namespace dpst
