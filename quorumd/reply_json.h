// The JSON of quorumd's control replies and events: nlohmann's ordered_json (keys in the order they are
// set, as clients and tests have always seen them) serialised compactly. Must never throw: invalid UTF-8
// in a string is replaced, not an exception.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace castor {

using Json = nlohmann::ordered_json;

inline std::string json_text(const Json& j) { return j.dump(-1, ' ', false, Json::error_handler_t::replace); }

}  // namespace castor
