"""Build macros shared by every package: our copts, plugin libraries and tests."""

PROXY_COPTS = ["-Werror"]

def proxy_cc_library(name, copts = [], **kwargs):
    """A library of ours, compiled with warnings as errors."""
    native.cc_library(name = name, copts = PROXY_COPTS + copts, **kwargs)

def proxy_plugin(name, copts = [], visibility = None, **kwargs):
    """A self-registering plugin library: alwayslink keeps its registrar in every binary."""
    native.cc_library(
        name = name,
        copts = PROXY_COPTS + copts,
        alwayslink = True,
        visibility = visibility or ["//visibility:public"],
        **kwargs
    )

def proxy_cc_test(name, deps = [], copts = [], **kwargs):
    """A GoogleTest test linked against Debian's static gtest/gmock."""
    native.cc_test(
        name = name,
        copts = PROXY_COPTS + copts,
        deps = deps + ["//third_party:gtest_main"],
        **kwargs
    )
