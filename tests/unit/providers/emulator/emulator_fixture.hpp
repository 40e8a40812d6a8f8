#pragma once

#include "raw_client.hpp"

#include "ep/emulator/emulator.hpp"

#include <gtest/gtest.h>

#include <memory>

namespace ep::emulator::test {

/// A started emulator without pacing, one per test.
class emulator_test : public ::testing::Test
{
protected:
    void SetUp() override
    {
        emulator_config cfg;
        cfg.zero_latency = true;
        configure(cfg);
        emu_ = std::make_unique<emulator>(cfg);
        emu_->start();
        port_ = emu_->port();
    }
    void TearDown() override { emu_->stop(); }
    virtual void configure(emulator_config&) {}

    raw_response openai(const nlohmann::json& body, std::map<std::string, std::string> headers = {})
    {
        headers.emplace("authorization", "Bearer sk-test-secret-1234");
        return post_json(port_, "/v1/chat/completions", body, std::move(headers));
    }
    raw_response anthropic(const nlohmann::json& body, std::map<std::string, std::string> headers = {})
    {
        headers.emplace("x-api-key", "sk-ant-secret-5678");
        headers.emplace("anthropic-version", "2023-06-01");
        return post_json(port_, "/v1/messages", body, std::move(headers));
    }
    raw_response responses(const nlohmann::json& body, std::map<std::string, std::string> headers = {})
    {
        headers.emplace("authorization", "Bearer sk-test-secret-1234");
        return post_json(port_, "/v1/responses", body, std::move(headers));
    }
    raw_response gemini(const std::string& model, bool stream, const nlohmann::json& body,
                        std::map<std::string, std::string> headers = {})
    {
        headers.emplace("x-goog-api-key", "g-secret-9012");
        auto target = "/v1beta/models/" + model + (stream ? ":streamGenerateContent?alt=sse" : ":generateContent");
        return post_json(port_, target, body, std::move(headers));
    }

    static nlohmann::json openai_body(const std::string& model, bool stream, const std::string& system = "",
                                      const std::string& user = "Build a cache")
    {
        nlohmann::json messages = nlohmann::json::array();
        if (!system.empty())
            messages.push_back({{"role", "system"}, {"content", system}});
        messages.push_back({{"role", "user"}, {"content", user}});
        return {{"model", model}, {"stream", stream}, {"messages", messages}};
    }
    static nlohmann::json anthropic_body(const std::string& model, bool stream, const std::string& system = "",
                                         const std::string& user = "Build a cache")
    {
        nlohmann::json b = {{"model", model},
                            {"max_tokens", 512},
                            {"stream", stream},
                            {"messages", {{{"role", "user"}, {"content", user}}}}};
        if (!system.empty())
            b["system"] = system;
        return b;
    }
    static nlohmann::json gemini_body(const std::string& system = "", const std::string& user = "Build a cache")
    {
        nlohmann::json b = {{"contents", {{{"role", "user"}, {"parts", {{{"text", user}}}}}}}};
        if (!system.empty())
            b["systemInstruction"] = {{"parts", {{{"text", system}}}}};
        return b;
    }
    static nlohmann::json weather_schema()
    {
        return {{"type", "object"},
                {"properties", {{"city", {{"type", "string"}}}, {"days", {{"type", "integer"}}}}},
                {"required", {"city"}}};
    }

    std::unique_ptr<emulator> emu_;
    unsigned short port_ = 0;
};

}  // namespace ep::emulator::test
