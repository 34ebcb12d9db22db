#include <gtest/gtest.h>
#include <kernel/config/lib/node_config.h>
#include <kernel/init/lib/init_function.h>

#include <string>
#include <vector>

using namespace tessera;

namespace {

std::vector<std::string> g_calls;
std::vector<std::string> g_reported;

ErrorOr<void> call_a()
{
    g_calls.push_back("a");
    return {};
}
ErrorOr<void> call_b()
{
    g_calls.push_back("b");
    return {};
}
ErrorOr<void> fail()
{
    g_calls.push_back("fail");
    return Error(Errno::NODEV, "no device");
}
void report(const InitFunction& function, const Error& error)
{
    g_reported.push_back(std::string(function.name) + ":" + errno_name(error.code()));
}

void reset()
{
    g_calls.clear();
    g_reported.clear();
}

} // namespace

TEST(InitFunction, RunsOnlyTheLevelAskedForInArrayOrder)
{
    reset();
    const InitFunction table[] = {
        { "a", call_a, InitLevel::Early, InitPolicy::Fatal, 0 },
        { "b_drivers", call_b, InitLevel::Drivers, InitPolicy::Fatal, 0 },
        { "b", call_b, InitLevel::Early, InitPolicy::Fatal, 0 },
    };
    auto result = run_init_functions(table, table + 3, InitLevel::Early, 0, report);
    EXPECT_EQ(result.ran, 2u);
    EXPECT_EQ(result.failed, 0u);
    EXPECT_EQ(result.fatal, nullptr);
    EXPECT_EQ(g_calls, (std::vector<std::string> { "a", "b" }));
}

TEST(InitFunction, OptionalFailureIsReportedAndTheLevelGoesOn)
{
    reset();
    const InitFunction table[] = {
        { "optional", fail, InitLevel::Platform, InitPolicy::Optional, 0 },
        { "after", call_a, InitLevel::Platform, InitPolicy::Fatal, 0 },
    };
    auto result = run_init_functions(table, table + 2, InitLevel::Platform, 0, report);
    EXPECT_EQ(result.failed, 1u);
    EXPECT_EQ(result.fatal, nullptr);
    EXPECT_EQ(g_reported, (std::vector<std::string> { "optional:ENODEV" }));
    EXPECT_EQ(g_calls, (std::vector<std::string> { "fail", "a" }));
}

TEST(InitFunction, FatalFailureStopsTheLevelAndNamesTheFunction)
{
    reset();
    const InitFunction table[] = {
        { "fatal", fail, InitLevel::Drivers, InitPolicy::Fatal, 0 },
        { "never", call_a, InitLevel::Drivers, InitPolicy::Fatal, 0 },
    };
    auto result = run_init_functions(table, table + 2, InitLevel::Drivers, 0, report);
    ASSERT_NE(result.fatal, nullptr);
    EXPECT_STREQ(result.fatal->name, "fatal");
    EXPECT_EQ(result.fatal_error.code(), Errno::NODEV);
    EXPECT_EQ(g_calls, (std::vector<std::string> { "fail" }));
}

TEST(InitFunction, MonitorsRunOnlyOnNodesWithTheirRoles)
{
    reset();
    const InitFunction table[] = {
        { "storage", call_a, InitLevel::Monitors, InitPolicy::Fatal, static_cast<uint8_t>(Role::Storage) },
        { "memory_or_grm", call_b, InitLevel::Monitors, InitPolicy::Fatal,
            static_cast<uint8_t>(static_cast<uint8_t>(Role::Memory) | static_cast<uint8_t>(Role::Grm)) },
    };
    auto result = run_init_functions(table, table + 2, InitLevel::Monitors, static_cast<uint8_t>(Role::Grm), report);
    EXPECT_EQ(result.ran, 1u);
    EXPECT_EQ(result.skipped_by_role, 1u);
    EXPECT_EQ(g_calls, (std::vector<std::string> { "b" }));
    reset();
    result = run_init_functions(table, table + 2, InitLevel::Monitors, 0, report);
    EXPECT_EQ(result.ran, 0u);
    EXPECT_TRUE(g_calls.empty());
}

TEST(InitFunction, LevelNames)
{
    EXPECT_STREQ(init_level_name(InitLevel::Early), "early");
    EXPECT_STREQ(init_level_name(InitLevel::Monitors), "monitors");
    EXPECT_STREQ(init_level_name(InitLevel::Late), "late");
}
