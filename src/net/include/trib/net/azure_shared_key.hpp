// Azure Storage "Shared Key" request signing for the Blob and Queue REST APIs (the scheme of
// service versions 2009-09-19 and later, with the 2015-02-21 rule that a zero Content-Length is
// signed as an empty string; we send x-ms-version 2021-08-06 or later). The pieces are exposed
// separately because a wrong canonical string shows up only as a 403 from the service, so each
// rule is tested on its own.
//
//   StringToSign = VERB \n Content-Encoding \n Content-Language \n Content-Length \n Content-MD5 \n
//                  Content-Type \n Date \n If-Modified-Since \n If-Match \n If-None-Match \n
//                  If-Unmodified-Since \n Range \n CanonicalizedHeaders CanonicalizedResource
//   Authorization: SharedKey <account>:Base64(HMAC-SHA256(Base64Decode(key), StringToSign))
//
// The account key is registered with trib::log::register_secret when a credential is made, so it
// never reaches a log line or an error message.
#pragma once

#include <string>
#include <string_view>

#include "trib/net/http_client.hpp"

namespace trib::net::azure {

class SharedKeyCredential {
 public:
  // `account_key_base64` is the key as the portal shows it. Throws Error::InvalidInput when the
  // account is empty or the key is not valid base64.
  SharedKeyCredential(std::string account, std::string_view account_key_base64);

  const std::string& account() const { return account_; }
  // Base64(HMAC-SHA256(key, string_to_sign)).
  std::string sign(std::string_view string_to_sign) const;

 private:
  std::string account_;
  std::string key_;  // decoded bytes
};

// Every x-ms-* header, names lower-cased, sorted by name, values trimmed with runs of whitespace
// folded to one space, repeated names joined with ',': "name:value\n" each.
std::string canonicalized_headers(const HttpRequest& request);

// "/" account path, then for each query parameter, sorted by lower-cased decoded name:
// "\nname:v1,v2" with its decoded values sorted. The path is taken as sent (still encoded).
std::string canonicalized_resource(std::string_view account, std::string_view url);

// The string the signature covers (see the header comment). Standard headers come from
// request.headers; Content-Length falls back to the body size, and is empty when zero.
std::string string_to_sign(const HttpRequest& request, std::string_view account);

// "SharedKey account:signature" for `request` as it stands.
std::string authorization_header(const HttpRequest& request, const SharedKeyCredential& cred);

// Signs `request` in place: sets x-ms-date to now unless the request has x-ms-date or Date, then
// sets Authorization. Sign last: any header or URL change after this invalidates the signature.
void sign_request(HttpRequest& request, const SharedKeyCredential& cred);

}  // namespace trib::net::azure
