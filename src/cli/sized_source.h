// -s SIZE: stdin as the engine sees it, with the size the user gave, as pv
// takes it. The size is only a hint for the progress of both sides (it
// travels in HELLO's size hint): the input is read to its real end, shorter
// or longer, and sent in full.
#pragma once

#include <memory>

#include "app/transfer.h"

namespace qpipe::cli {

class SizedSource final : public app::ByteSource {
public:
  SizedSource(std::unique_ptr<app::ByteSource> inner, uint64_t size)
      : inner_(std::move(inner)), size_(size) {}
  void read(std::span<uint8_t> buf, std::function<void(app::ReadResult)> done) override {
    inner_->read(buf, std::move(done));
  }
  void cancel() override { inner_->cancel(); }
  std::optional<uint64_t> size() const override { return size_; }
  std::string name() const override { return inner_->name(); }

private:
  std::unique_ptr<app::ByteSource> inner_;
  uint64_t size_;
};

} // namespace qpipe::cli
