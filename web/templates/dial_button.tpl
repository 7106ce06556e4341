<form method="post" action="/dial" class="inline dial">
  <input type="hidden" name="csrf_token" value="{{csrf}}">
  <input type="hidden" name="to" value="{{number}}">
  <input type="hidden" name="next" value="{{get('fullpath', path)}}">
  <button type="submit" class="link" aria-label="{{_('Call {number}', number=shown)}}">{{shown}}</button>
</form>
