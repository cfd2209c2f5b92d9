// N-API glue (node-addon-api, no V8 APIs): openTun/closeFd/nowMs and the Engine class.
// All per-packet work happens in dataplane.cc threads; this file only converts arguments
// and delivers batched events to JS through one threadsafe function.
#include <napi.h>
#include <unistd.h>

#include "dataplane.h"
#include "tun.h"

using namespace ikegw;

namespace {

// [{family: 4|6, startAddr: Uint8Array, endAddr: Uint8Array, ipProtocol?, startPort?, endPort?}]
// (≤ kMaxTs) → out; returns the count (undefined / absent = 0)
uint8_t tsArg(const Napi::Env& env, const Napi::Value& v, TsSel* out, const char* what) {
  if (v.IsUndefined() || v.IsNull()) return 0;
  if (!v.IsArray()) throw Napi::TypeError::New(env, std::string(what) + ": array expected");
  Napi::Array a = v.As<Napi::Array>();
  if (a.Length() > kMaxTs)
    throw Napi::RangeError::New(env, std::string(what) + ": at most " + std::to_string(kMaxTs) + " selectors");
  for (uint32_t i = 0; i < a.Length(); i++) {
    Napi::Value e = a.Get(i);
    if (!e.IsObject()) throw Napi::TypeError::New(env, std::string(what) + ": selector object expected");
    Napi::Object o = e.As<Napi::Object>();
    TsSel& t = out[i];
    t = TsSel{};
    uint32_t fam = o.Get("family").IsNumber() ? o.Get("family").As<Napi::Number>().Uint32Value() : 0;
    if (fam != 4 && fam != 6) throw Napi::TypeError::New(env, std::string(what) + ": family 4 or 6");
    t.family = uint8_t(fam);
    size_t alen = fam == 4 ? 4 : 16;
    for (const char* k : {"startAddr", "endAddr"}) {
      Napi::Value b = o.Get(k);
      if (!b.IsTypedArray() || b.As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array)
        throw Napi::TypeError::New(env, std::string(what) + "." + k + ": Uint8Array expected");
      Napi::Uint8Array u = b.As<Napi::Uint8Array>();
      if (u.ByteLength() != alen) throw Napi::RangeError::New(env, std::string(what) + "." + k + ": wrong length");
      memcpy(std::string(k) == "startAddr" ? t.start : t.end, u.Data(), alen);
    }
    auto num = [&](const char* k, uint32_t dflt) {
      Napi::Value n = o.Get(k);
      return n.IsNumber() ? n.As<Napi::Number>().Uint32Value() : dflt;
    };
    t.proto = uint8_t(num("ipProtocol", 0));
    t.startPort = uint16_t(num("startPort", 0));
    t.endPort = uint16_t(num("endPort", 65535));
  }
  return uint8_t(a.Length());
}

SockAddr addrArg(const Napi::Env& env, const Napi::Value& a, const Napi::Value& p, const char* what) {
  SockAddr s;
  if (!a.IsString()) throw Napi::TypeError::New(env, std::string(what) + ": address string expected");
  uint32_t port = p.IsNumber() ? p.As<Napi::Number>().Uint32Value() : 0;
  if (port > 65535 || !parseAddr(a.As<Napi::String>().Utf8Value(), uint16_t(port), &s))
    throw Napi::TypeError::New(env, std::string(what) + ": bad address or port");
  return s;
}

std::vector<uint8_t> bytesArg(const Napi::Env& env, const Napi::Value& v, const char* what) {
  if (v.IsUndefined() || v.IsNull()) return {};
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array)
    throw Napi::TypeError::New(env, std::string(what) + ": Uint8Array expected");
  auto u = v.As<Napi::Uint8Array>();
  return std::vector<uint8_t>(u.Data(), u.Data() + u.ByteLength());
}

uint64_t u64Arg(const Napi::Value& v) {
  if (v.IsBigInt()) {
    bool lossless;
    return v.As<Napi::BigInt>().Uint64Value(&lossless);
  }
  if (v.IsNumber()) {
    double d = v.As<Napi::Number>().DoubleValue();
    return d > 0 ? uint64_t(d) : 0;
  }
  return 0;
}

uint32_t spiArg(const Napi::Env& env, const Napi::Value& v) {
  if (!v.IsNumber()) throw Napi::TypeError::New(env, "spi: number expected");
  double d = v.As<Napi::Number>().DoubleValue();
  if (d < 0 || d > 4294967295.0 || d != double(uint32_t(d))) throw Napi::RangeError::New(env, "spi: uint32 expected");
  return uint32_t(d);
}

uint32_t optU32(const Napi::Value& o, const char* k) {
  if (!o.IsObject()) return 0;
  Napi::Value v = o.As<Napi::Object>().Get(k);
  return v.IsNumber() ? v.As<Napi::Number>().Uint32Value() : 0;
}

bool dirArg(const Napi::Env& env, const Napi::Value& v) {
  std::string d = v.IsString() ? v.As<Napi::String>().Utf8Value() : "";
  if (d != "in" && d != "out") throw Napi::TypeError::New(env, "dir: 'in' or 'out' expected");
  return d == "out";
}

Napi::Value openTunJs(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!info[0].IsString()) throw Napi::TypeError::New(env, "openTun(name, mtu)");
  std::string name = info[0].As<Napi::String>().Utf8Value(), actual, err;
  int mtu = info[1].IsNumber() ? info[1].As<Napi::Number>().Int32Value() : 0;
  bool offload = info.Length() > 2 && info[2].IsBoolean() && info[2].As<Napi::Boolean>().Value();
  // blocking fds are for the TypeScript data path (reads on libuv's thread pool)
  bool blocking = info.Length() > 3 && info[3].IsBoolean() && info[3].As<Napi::Boolean>().Value();
  int fd = openTun(name, mtu, &actual, &err, offload, blocking);
  if (fd < 0) throw Napi::Error::New(env, err);
  Napi::Object o = Napi::Object::New(env);
  o.Set("fd", fd);
  o.Set("name", actual);
  return o;
}

Napi::Value closeFdJs(const Napi::CallbackInfo& info) {
  if (info[0].IsNumber()) close(info[0].As<Napi::Number>().Int32Value());
  return info.Env().Undefined();
}

Napi::Value nowMsJs(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), double(Engine::nowMs()));
}

class EngineWrap : public Napi::ObjectWrap<EngineWrap> {
 public:
  static Napi::Function Init(Napi::Env env) {
    return DefineClass(env, "Engine",
                       {
                           InstanceMethod("openUdp", &EngineWrap::OpenUdp),
                           InstanceMethod("socketInfo", &EngineWrap::SocketInfo),
                           InstanceMethod("addConnection", &EngineWrap::AddConnection),
                           InstanceMethod("setConnection", &EngineWrap::SetConnection),
                           InstanceMethod("removeConnection", &EngineWrap::RemoveConnection),
                           InstanceMethod("connectionLimit", &EngineWrap::ConnectionLimit),
                           InstanceMethod("addSa", &EngineWrap::AddSa),
                           InstanceMethod("delSa", &EngineWrap::DelSa),
                           InstanceMethod("activateOutbound", &EngineWrap::ActivateOutbound),
                           InstanceMethod("updateSa", &EngineWrap::UpdateSa),
                           InstanceMethod("querySa", &EngineWrap::QuerySa),
                           InstanceMethod("sendIke", &EngineWrap::SendIke),
                           InstanceMethod("start", &EngineWrap::Start),
                           InstanceMethod("stop", &EngineWrap::Stop),
                           InstanceMethod("close", &EngineWrap::Close),
                           InstanceMethod("stats", &EngineWrap::Stats),
                           InstanceMethod("takeEvents", &EngineWrap::TakeEvents),
                           InstanceMethod("testSeal", &EngineWrap::TestSeal),
                           InstanceMethod("testInbound", &EngineWrap::TestInbound),
                           InstanceMethod("benchEsp", &EngineWrap::BenchEsp),
                       });
  }

  explicit EngineWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<EngineWrap>(info) {
    if (!info[0].IsFunction()) throw Napi::TypeError::New(info.Env(), "new Engine(onEvents)");
    onEvents_ = Napi::Persistent(info[0].As<Napi::Function>());
    engine_ = std::make_unique<Engine>();
  }

  ~EngineWrap() override {
    if (engine_) engine_->stop();
  }

 private:
  Napi::Value OpenUdp(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    SockAddr a = addrArg(env, info[0], info[1], "openUdp");
    bool esp = info[2].IsBoolean() ? info[2].As<Napi::Boolean>().Value() : a.port() != 500;
    std::string err;
    int idx = engine_->openUdp(a, esp, &err);
    if (idx < 0) throw Napi::Error::New(env, err);
    return Napi::Number::New(env, idx);
  }

  Napi::Value SocketInfo(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    SockAddr a;
    bool esp;
    if (!info[0].IsNumber() || !engine_->sockName(info[0].As<Napi::Number>().Int32Value(), &a, &esp))
      return env.Undefined();
    Napi::Object o = Napi::Object::New(env);
    o.Set("address", a.addrString());
    o.Set("port", a.port());
    o.Set("espInUdp", esp);
    return o;
  }

  Napi::Value AddConnection(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!info[0].IsNumber()) throw Napi::TypeError::New(env, "addConnection(tunFd, mtu, mss (-1 = auto), {maxPacket?, pathMtu?, trap?})");
    std::string err;
    int idx = engine_->addConnection(info[0].As<Napi::Number>().Int32Value(),
                                      info[1].IsNumber() ? info[1].As<Napi::Number>().Uint32Value() : 0,
                                      info[2].IsNumber() ? info[2].As<Napi::Number>().Int32Value() : 0,
                                      optU32(info[3], "maxPacket"), optU32(info[3], "pathMtu"),
                                      info[3].IsObject() && info[3].As<Napi::Object>().Get("trap").ToBoolean().Value(),
                                      &err);
    if (idx < 0) throw Napi::Error::New(env, err);
    return Napi::Number::New(env, idx);
  }

  Napi::Value SetConnection(const Napi::CallbackInfo& info) {
    bool ok = engine_->setConnection(info[0].As<Napi::Number>().Int32Value(),
                                     info[1].IsNumber() ? info[1].As<Napi::Number>().Uint32Value() : 0,
                                     info[2].IsNumber() ? info[2].As<Napi::Number>().Int32Value() : 0,
                                     optU32(info[3], "maxPacket"), optU32(info[3], "pathMtu"));
    return Napi::Boolean::New(info.Env(), ok);
  }

  // connectionLimit(conn) → largest inner packet sealed now (0 = unknown connection)
  Napi::Value ConnectionLimit(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), engine_->connectionLimit(info[0].As<Napi::Number>().Int32Value()));
  }

  Napi::Value RemoveConnection(const Napi::CallbackInfo& info) {
    return Napi::Boolean::New(info.Env(), engine_->removeConnection(info[0].As<Napi::Number>().Int32Value()));
  }

  Napi::Value AddSa(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!info[0].IsObject()) throw Napi::TypeError::New(env, "addSa(spec)");
    Napi::Object o = info[0].As<Napi::Object>();
    SaParams p;
    p.spi = spiArg(env, o.Get("spi"));
    p.outbound = dirArg(env, o.Get("dir"));
    p.conn = o.Get("conn").As<Napi::Number>().Uint32Value();
    p.encr = o.Get("encr").As<Napi::Number>().Int32Value();
    p.integ = o.Has("integ") && o.Get("integ").IsNumber() ? o.Get("integ").As<Napi::Number>().Int32Value() : 0;
    p.encKey = bytesArg(env, o.Get("encKey"), "encKey");
    p.integKey = bytesArg(env, o.Get("integKey"), "integKey");
    p.esn = o.Get("esn").ToBoolean().Value();
    p.replayWindow = o.Get("replayWindow").IsNumber() ? o.Get("replayWindow").As<Napi::Number>().Uint32Value() : 0;
    p.remote = addrArg(env, o.Get("remoteAddress"), o.Get("remotePort"), "remote");
    if (o.Get("localAddress").IsString()) p.local = addrArg(env, o.Get("localAddress"), o.Get("localPort"), "local");
    p.encap = o.Get("encap").IsUndefined() ? true : o.Get("encap").ToBoolean().Value();
    p.softBytes = u64Arg(o.Get("softBytes"));
    p.hardBytes = u64Arg(o.Get("hardBytes"));
    p.softPackets = u64Arg(o.Get("softPackets"));
    p.hardPackets = u64Arg(o.Get("hardPackets"));
    p.nLocalTs = tsArg(env, o.Get("localTs"), p.localTs, "localTs");
    p.nRemoteTs = tsArg(env, o.Get("remoteTs"), p.remoteTs, "remoteTs");
    Napi::Value g = o.Get("aesGcm");
    if (!g.IsUndefined()) {
      std::string m = g.IsString() ? g.As<Napi::String>().Utf8Value() : "";
      if (m != "auto" && m != "evp") throw Napi::TypeError::New(env, "addSa: aesGcm must be 'auto' or 'evp'");
      p.forceEvp = m == "evp";
    }
    std::string err;
    bool ok = engine_->addSa(std::move(p), &err);
    if (!ok) throw Napi::Error::New(env, "addSa: " + err);
    return env.Undefined();
  }

  Napi::Value DelSa(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    return Napi::Boolean::New(env, engine_->delSa(spiArg(env, info[0]), dirArg(env, info[1])));
  }

  Napi::Value ActivateOutbound(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    std::string err;
    if (!engine_->activateOutbound(info[0].As<Napi::Number>().Int32Value(), spiArg(env, info[1]), &err))
      throw Napi::Error::New(env, "activateOutbound: " + err);
    return env.Undefined();
  }

  // updateSa(spi, dir, {remoteAddress?, remotePort?, encap?})
  Napi::Value UpdateSa(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    uint32_t spi = spiArg(env, info[0]);
    bool out = dirArg(env, info[1]);
    Napi::Object u = info[2].IsObject() ? info[2].As<Napi::Object>() : Napi::Object::New(env);
    SockAddr r;
    bool hasRemote = u.Get("remoteAddress").IsString();
    if (hasRemote) r = addrArg(env, u.Get("remoteAddress"), u.Get("remotePort"), "remote");
    int encap = u.Get("encap").IsBoolean() ? int(u.Get("encap").As<Napi::Boolean>().Value()) : -1;
    std::string err;
    if (!engine_->updateSa(spi, out, hasRemote ? &r : nullptr, encap, &err))
      throw Napi::Error::New(env, "updateSa: " + err);
    return env.Undefined();
  }

  Napi::Value QuerySa(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    uint64_t b, p, l;
    const char* impl = "";
    if (!engine_->querySa(spiArg(env, info[0]), dirArg(env, info[1]), &b, &p, &l, &impl)) return env.Undefined();
    Napi::Object o = Napi::Object::New(env);
    o.Set("bytes", double(b));
    o.Set("packets", double(p));
    o.Set("lastUsedMs", double(l));
    o.Set("impl", impl);
    return o;
  }

  // sendIke(socket, data, remoteAddress, remotePort, localAddress?, raw?)
  Napi::Value SendIke(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!info[0].IsNumber()) throw Napi::TypeError::New(env, "sendIke(socket, data, remoteAddress, remotePort, localAddress?)");
    std::vector<uint8_t> data = bytesArg(env, info[1], "data");
    SockAddr r = addrArg(env, info[2], info[3], "remote");
    SockAddr l;
    bool hasLocal = info[4].IsString() && info[4].As<Napi::String>().Utf8Value().size() > 0;
    if (hasLocal) l = addrArg(env, info[4], Napi::Number::New(env, 0), "local");
    std::string err;
    bool raw = info.Length() > 5 && info[5].IsBoolean() && info[5].As<Napi::Boolean>().Value();
    if (!engine_->sendIke(info[0].As<Napi::Number>().Int32Value(), data.data(), data.size(), r, hasLocal ? &l : nullptr,
                          &err, raw))
      throw Napi::Error::New(env, "sendIke: " + err);
    return env.Undefined();
  }

  Napi::Value Start(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (engine_->running()) return env.Undefined();
    tsfn_ = Napi::ThreadSafeFunction::New(env, onEvents_.Value(), "ikegw-events", 0, 1,
                                          [this](Napi::Env) { this->Unref(); });
    Ref();  // the queued event callbacks use `this`; released by the tsfn finalizer
    engine_->notify = [this] {
      tsfn_.NonBlockingCall([this](Napi::Env env, Napi::Function cb) { Deliver(env, cb); });
    };
    // start({ nice? }): nice value for the data threads (0 = inherit)
    if (info[0].IsObject()) {
      Napi::Value n = info[0].As<Napi::Object>().Get("nice");
      if (n.IsNumber()) engine_->setThreadNice(n.As<Napi::Number>().Int32Value());
    }
    std::string err;
    if (!engine_->start(&err)) {
      engine_->notify = nullptr;
      tsfn_.Release();
      throw Napi::Error::New(env, err);
    }
    // events queued before start (e.g. by test hooks) must not be stranded
    tsfn_.NonBlockingCall([this](Napi::Env env, Napi::Function cb) { Deliver(env, cb); });
    return env.Undefined();
  }

  Napi::Value Stop(const Napi::CallbackInfo& info) {
    if (!engine_->running()) return info.Env().Undefined();
    engine_->stop();  // joins both data threads
    engine_->notify = nullptr;
    tsfn_.Release();  // queued deliveries still run, then the finalizer Unref()s
    return info.Env().Undefined();
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    Stop(info);
    engine_->close();
    return info.Env().Undefined();
  }

  void Deliver(Napi::Env env, Napi::Function cb) {
    std::vector<Event> evs = engine_->takeEvents();
    if (evs.empty()) return;
    Napi::Array arr = EventsToJs(env, evs);
    cb.Call({arr});
  }

  Napi::Array EventsToJs(Napi::Env env, std::vector<Event>& evs) {
    Napi::Array arr = Napi::Array::New(env, evs.size());
    for (size_t i = 0; i < evs.size(); i++) {
      Event& e = evs[i];
      Napi::Object o = Napi::Object::New(env);
      switch (e.kind) {
        case Event::IKE:
          o.Set("kind", "ike");
          o.Set("socket", e.sock);
          o.Set("data", Napi::Buffer<uint8_t>::Copy(env, e.data.data(), e.data.size()));
          o.Set("remoteAddress", e.remote.addrString());
          o.Set("remotePort", e.remote.port());
          o.Set("localAddress", e.local.addrString());
          o.Set("localPort", e.local.port());
          break;
        case Event::MAPPING:
          o.Set("kind", "mapping");
          o.Set("spi", double(e.spi));
          o.Set("remoteAddress", e.remote.addrString());
          o.Set("remotePort", e.remote.port());
          break;
        case Event::EXPIRE:
          o.Set("kind", "expire");
          o.Set("spi", double(e.spi));
          o.Set("dir", e.outbound ? "out" : "in");
          o.Set("hard", e.hard);
          o.Set("reason", e.reason);
          break;
        case Event::ACQUIRE:
          o.Set("kind", "acquire");
          o.Set("conn", e.conn);
          o.Set("header", Napi::Buffer<uint8_t>::Copy(env, e.data.data(), e.data.size()));
          break;
      }
      arr.Set(uint32_t(i), o);
    }
    return arr;
  }

  Napi::Value TakeEvents(const Napi::CallbackInfo& info) {
    std::vector<Event> evs = engine_->takeEvents();
    return EventsToJs(info.Env(), evs);
  }

  Napi::Value Stats(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Napi::Object o = Napi::Object::New(env);
    for (int c = 0; c < C__COUNT; c++) o.Set(counterName(c), double(engine_->counter(c)));
    Napi::Object d = Napi::Object::New(env);
    for (int r = 1; r < DROP__COUNT; r++) d.Set(dropName(r), double(engine_->drops(r)));
    o.Set("drops", d);
    o.Set("sas", double(engine_->saCount()));
    o.Set("running", engine_->running());
    if (engine_->appliedNice() != INT32_MIN) o.Set("threadNice", engine_->appliedNice());
    return o;
  }

  // testSeal(spi, payload, nextHeader, seq?, splitAt?) → Buffer (ESP packet); throws with the
  // drop reason. splitAt: seal payload[0, splitAt) ‖ payload[splitAt, …) from two buffers as
  // the TSO path does (espSealSplit)
  Napi::Value TestSeal(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    uint32_t spi = spiArg(env, info[0]);
    std::vector<uint8_t> payload = bytesArg(env, info[1], "payload");
    uint8_t nh = uint8_t(info[2].IsNumber() ? info[2].As<Napi::Number>().Uint32Value() : 4);
    uint64_t seq = u64Arg(info[3]);
    size_t splitAt = info[4].IsNumber() ? size_t(info[4].As<Napi::Number>().Uint32Value()) : 0;
    std::vector<uint8_t> out;
    int r = engine_->testSeal(spi, payload.data(), payload.size(), nh, seq, splitAt, &out);
    if (r != DROP_NONE) throw Napi::Error::New(env, std::string("seal: ") + dropName(r));
    return Napi::Buffer<uint8_t>::Copy(env, out.data(), out.size());
  }

  // testInbound(packet, remoteAddress?, remotePort?) → {result, nextHeader, seq, payload?}
  Napi::Value TestInbound(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    std::vector<uint8_t> pkt = bytesArg(env, info[0], "packet");
    SockAddr src;
    if (info[1].IsString()) src = addrArg(env, info[1], info[2], "remote");
    std::vector<uint8_t> inner;
    uint8_t nh;
    uint64_t seq;
    int r = engine_->testInbound(pkt.data(), pkt.size(), src, &inner, &nh, &seq);
    Napi::Object o = Napi::Object::New(env);
    o.Set("result", r == DROP_NONE ? "ok" : dropName(r));
    o.Set("nextHeader", nh);
    o.Set("seq", Napi::BigInt::New(env, seq));
    if (!inner.empty() || r == DROP_NONE) o.Set("payload", Napi::Buffer<uint8_t>::Copy(env, inner.data(), inner.size()));
    return o;
  }

  // benchEsp(spi, dir, packet, count) → CPU nanoseconds for `count` seals ('out', packet =
  // inner) or opens ('in', packet = ESP, anti-replay off) inside the addon; throws on a drop
  Napi::Value BenchEsp(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    uint32_t spi = spiArg(env, info[0]);
    bool out = dirArg(env, info[1]);
    std::vector<uint8_t> pkt = bytesArg(env, info[2], "packet");
    uint64_t count = info[3].IsNumber() ? uint64_t(info[3].As<Napi::Number>().Int64Value()) : 0;
    int err = 0;
    int64_t ns = engine_->benchEsp(spi, out, pkt.data(), pkt.size(), count, &err);
    if (ns < 0) throw Napi::Error::New(env, std::string("benchEsp: ") + dropName(err));
    return Napi::Number::New(env, double(ns));
  }

  std::unique_ptr<Engine> engine_;
  Napi::FunctionReference onEvents_;
  Napi::ThreadSafeFunction tsfn_;
};

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("openTun", Napi::Function::New(env, openTunJs));
  exports.Set("closeFd", Napi::Function::New(env, closeFdJs));
  exports.Set("nowMs", Napi::Function::New(env, nowMsJs));
  exports.Set("Engine", EngineWrap::Init(env));
  exports.Set("abiVersion", Napi::Number::New(env, 1));
  return exports;
}

}  // namespace

NODE_API_MODULE(ikegw_native, Init)
