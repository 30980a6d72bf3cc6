namespace Miniss.IO;

/// <summary>
/// What an operation in flight on a shard's engine completes: a single-shot <see cref="IoPromise"/>, or an
/// operation that stays armed and completes many times (a multishot receive or accept). Registered in the shard's
/// <see cref="CompletionTable"/>, which gives it the user data its SQE carries.
/// </summary>
internal interface ICompletionTarget
{
    /// <summary>
    /// One completion, on the target's shard. The last one lacks <c>IORING_CQE_F_MORE</c> (a single-shot operation
    /// has only that one); by then the table has already freed the target's slot, so the handler may register again.
    /// An exception thrown here is reported as the shard's unhandled exception.
    /// </summary>
    /// <param name="result">The kernel's result: non-negative on success, <c>-errno</c> on failure.</param>
    /// <param name="flags">The completion's <c>IORING_CQE_F_*</c> flags.</param>
    void OnCompletion(int result, uint flags);
}
