#include "fetch.h"

#include <curl/curl.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <memory>
#include <thread>

#include "base/log.h"
#include "base/sha256.h"
#include "interrupt.h"
#include "tarball.h"

namespace havre::pack {
namespace {

constexpr int kAttempts = 3;

struct FileCloser {
  void operator()(std::FILE* f) const { std::fclose(f); }
};

// Download progress on stderr: a bar redrawn in place on a terminal, a plain line per quarter otherwise.
class Progress {
 public:
  explicit Progress(std::string name) : name_(std::move(name)), tty_(::isatty(STDERR_FILENO) == 1) {}
  ~Progress() {
    if (drawn_) std::fputc('\n', stderr);
  }
  void update(curl_off_t total, curl_off_t now) {
    if (log::level() < log::Level::kInfo || total <= 0) return;
    const int percent = static_cast<int>(now * 100 / total);
    if (tty_) {
      const auto t = std::chrono::steady_clock::now();
      if (percent != 100 && t - last_draw_ < std::chrono::milliseconds(100)) return;
      last_draw_ = t;
      const int width = 30, filled = percent * width / 100;
      std::fprintf(stderr, "\rhavre-pack: %s [%s%s] %3d%% %.1f/%.1f MB", name_.c_str(),
                   std::string(filled, '#').c_str(), std::string(width - filled, ' ').c_str(), percent,
                   now / 1e6, total / 1e6);
      drawn_ = true;
    } else if (percent / 25 > last_quarter_) {
      last_quarter_ = percent / 25;
      log::info("%s: %d%% of %.1f MB", name_.c_str(), last_quarter_ * 25, total / 1e6);
    }
  }

 private:
  std::string name_;
  bool tty_;
  bool drawn_ = false;
  int last_quarter_ = 0;
  std::chrono::steady_clock::time_point last_draw_{};
};

int on_progress(void* data, curl_off_t total, curl_off_t now, curl_off_t, curl_off_t) {
  if (interrupted()) return 1;  // non-zero aborts the transfer
  static_cast<Progress*>(data)->update(total, now);
  return 0;
}

// One attempt. Returns {curl code, HTTP status}; the error text goes to `message`.
std::pair<CURLcode, long> download_once(const std::string& url, std::FILE* out, std::string& message) {
  const std::string name = url.substr(url.rfind('/') + 1);
  Progress progress(name.empty() ? url : name);
  std::unique_ptr<CURL, decltype(&curl_easy_cleanup)> curl(curl_easy_init(), curl_easy_cleanup);
  char errbuf[CURL_ERROR_SIZE] = "";
  curl_easy_setopt(curl.get(), CURLOPT_URL, url.c_str());
  curl_easy_setopt(curl.get(), CURLOPT_FOLLOWLOCATION, 1L);
  curl_easy_setopt(curl.get(), CURLOPT_MAXREDIRS, 10L);
  curl_easy_setopt(curl.get(), CURLOPT_FAILONERROR, 1L);
  curl_easy_setopt(curl.get(), CURLOPT_CONNECTTIMEOUT, 30L);
  // Abort a stalled transfer: less than 1 byte/s for 60 s.
  curl_easy_setopt(curl.get(), CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt(curl.get(), CURLOPT_LOW_SPEED_TIME, 60L);
  curl_easy_setopt(curl.get(), CURLOPT_WRITEDATA, out);
  curl_easy_setopt(curl.get(), CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(curl.get(), CURLOPT_NOPROGRESS, 0L);
  curl_easy_setopt(curl.get(), CURLOPT_XFERINFOFUNCTION, on_progress);
  curl_easy_setopt(curl.get(), CURLOPT_XFERINFODATA, &progress);
  curl_easy_setopt(curl.get(), CURLOPT_USERAGENT, "havre-pack");
  CURLcode rc = curl_easy_perform(curl.get());
  long http = 0;
  curl_easy_getinfo(curl.get(), CURLINFO_RESPONSE_CODE, &http);
  message = errbuf[0] ? errbuf : curl_easy_strerror(rc);
  return {rc, http};
}

bool transient(CURLcode rc, long http) {
  switch (rc) {
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_PARTIAL_FILE:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_GOT_NOTHING:
      return true;
    case CURLE_HTTP_RETURNED_ERROR:
      return http == 408 || http == 429 || http >= 500;
    default:
      return false;
  }
}

}  // namespace

Result<std::string> fetch_verified(const std::string& url, const std::string& sha256_hex, const Cache& cache,
                                   bool offline) {
  if (auto hit = cache.find(sha256_hex)) {
    if (verify_sha256(*hit, sha256_hex)) {
      cache.touch(*hit);
      return *hit;
    }
    log::warn("cached %s is damaged; downloading it again", hit->c_str());
    ::unlink(hit->c_str());
  }
  if (offline) return error(url + ": not in the cache " + cache.dir() + " and --offline was given");
  static const bool initialized = curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK;
  if (!initialized) return error("libcurl initialization failed");

  auto temp = cache.temp_path();
  if (!temp) return temp.error();
  struct Unlink {
    std::string path;
    ~Unlink() {
      if (!path.empty()) ::unlink(path.c_str());
    }
  } cleanup{*temp};

  std::string message;
  for (int attempt = 1;; ++attempt) {
    if (auto ok = check_interrupted(); !ok) return ok.error();
    log::info("downloading %s%s", url.c_str(), attempt > 1 ? " (retrying)" : "");
    std::unique_ptr<std::FILE, FileCloser> out(std::fopen(temp->c_str(), "wb"));
    if (!out) return sys_error("open " + *temp);
    auto [rc, http] = download_once(url, out.get(), message);
    if (std::fflush(out.get()) != 0) return sys_error("write " + *temp);
    if (rc == CURLE_OK) break;
    if (auto ok = check_interrupted(); !ok) return ok.error();
    if (attempt >= kAttempts || !transient(rc, http)) return error("download " + url + ": " + message);
    std::this_thread::sleep_for(std::chrono::seconds(attempt));
  }
  auto digest = verify_sha256(*temp, "");
  if (!digest) return digest.error().wrap("download " + url);
  if (to_hex(*digest) != sha256_hex)
    return error("download " + url + ": sha256 mismatch: expected " + sha256_hex + ", got " +
                 to_hex(*digest));
  if (auto ok = cache.commit(*temp, sha256_hex); !ok) return ok.error();
  cleanup.path.clear();
  return cache.path_for(sha256_hex);
}

}  // namespace havre::pack
