// Conversions between the engine's values and Python's: vectors handed to NumPy without a copy,
// JSON documents as dicts and lists, dates as "YYYY-MM-DD" strings (the Python layer turns
// datetime.date, pandas.Timestamp and strings into those).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

namespace trib::python {

namespace py = pybind11;

// A NumPy array that owns the vector's buffer (moved, not copied): the array keeps it alive.
template <class T>
py::array_t<T> to_numpy(std::vector<T>&& values) {
  auto* owned = new std::vector<T>(std::move(values));
  py::capsule owner(owned, [](void* p) { delete static_cast<std::vector<T>*>(p); });
  return py::array_t<T>({owned->size()}, {sizeof(T)}, owned->data(), owner);
}

// Marks an array read-only (views into the engine's memory).
inline void make_read_only(py::array& a) { py::detail::array_proxy(a.ptr())->flags &= ~py::detail::npy_api::NPY_ARRAY_WRITEABLE_; }

// JSON as Python objects (null -> None, objects -> dict in key order).
py::object to_python(const nlohmann::json& j);

// Days since 1970-01-01 as nanoseconds (datetime64[ns] at midnight).
inline int64_t day_ns(int32_t day) { return int64_t{day} * 86'400'000'000'000; }

}  // namespace trib::python
