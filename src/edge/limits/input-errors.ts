import type { ExecutionResult } from 'graphql';
import { isAsyncIterable, type Plugin } from 'graphql-yoga';
import { withMessage } from './echo.ts';

/**
 * Variables that do not fit their types (an Int past 32 bits, text for a number, a required one missing)
 * are refused by graphql-js before anything runs, with no code. They are the caller's input like every
 * other refusal, so they are BAD_USER_INPUT too. Only such request errors (an answer without `data`) that
 * carry no code of their own are marked.
 */
function marked(result: ExecutionResult): ExecutionResult | null {
  if ('data' in result || !result.errors?.some((error) => error.extensions?.code === undefined)) return null;
  return {
    ...result,
    errors: result.errors.map((error) =>
      error.extensions?.code === undefined
        ? withMessage(error, error.message, { ...error.extensions, code: 'BAD_USER_INPUT' })
        : error,
    ),
  };
}

export function useInputErrorCodes(): Plugin {
  const mark = ({
    result,
    setResult,
  }: {
    result: ExecutionResult | AsyncIterable<ExecutionResult>;
    setResult: (result: ExecutionResult) => void;
  }) => {
    if (isAsyncIterable(result)) return;
    const next = marked(result);
    if (next) setResult(next);
  };
  return {
    onExecute: () => ({ onExecuteDone: mark }),
    onSubscribe: () => ({ onSubscribeResult: mark }),
  };
}
