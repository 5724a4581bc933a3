export { TicksupplyClient, type GetExportResult, type TicksupplyClientOptions } from './client';
export {
  InvalidExportIdError,
  TicksupplyAbortError,
  TicksupplyApiError,
  TicksupplyConnectionError,
  TicksupplyContractError,
  TicksupplyError,
  TicksupplyHttpError,
  TicksupplyResponseError,
  TicksupplyTimeoutError,
  type RequestContext,
} from './errors';
export { type RateLimitInfo } from './rate-limit';
export * from './schema';
