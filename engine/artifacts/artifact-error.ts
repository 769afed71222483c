// Why an archive was refused. The message names the entry, so a user can fix the step that
// produced it; the code lets the engine and the API tell the cases apart.
export type ArtifactErrorCode =
  /** Absolute path, `..` segment, or an entry outside the expected top folder. */
  | 'GBCMS_ERR_ARTIFACT_PATH'
  /** A hardlink, or a symlink whose target leaves the destination. */
  | 'GBCMS_ERR_ARTIFACT_LINK'
  /** A device, FIFO or unknown entry type. */
  | 'GBCMS_ERR_ARTIFACT_TYPE'
  /** Writing the entry would go through a symlink already on disk. */
  | 'GBCMS_ERR_ARTIFACT_SYMLINK'
  /** Something that is not a regular file or directory is in the way on disk. */
  | 'GBCMS_ERR_ARTIFACT_EXISTS'
  | 'GBCMS_ERR_ARTIFACT_TOO_LARGE'
  | 'GBCMS_ERR_ARTIFACT_TOO_MANY'
  /** The archive is not a readable tar (corrupt, cut short, or its source failed). */
  | 'GBCMS_ERR_ARTIFACT_ARCHIVE'
  /** The disk refused a write (full, permissions). */
  | 'GBCMS_ERR_ARTIFACT_IO';

export class ArtifactError extends Error {
  constructor(
    readonly code: ArtifactErrorCode,
    message: string,
    /** The archive entry at fault, as named in the archive. */
    readonly entry?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'ArtifactError';
  }
}
